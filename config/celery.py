"""The Celery app. Beat's schedule lives in code here, so it is reviewed and documented."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("handvest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat's schedule (documented in the README, section "Celery").
app.conf.beat_schedule = {
    "retrain-tagger-weekly": {"task": "cases.tasks.tagging.retrain_tagger", "schedule": crontab(hour=3, minute=0, day_of_week="sunday")},
}
