"""The Celery app. Beat's schedule lives in code here, so it is reviewed and documented."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("handvest")
app.config_from_object("django.conf:settings", namespace="CELERY")
if not app.conf.broker_url:
    # Eager (`make run`, tests): Celery still opens a producer for eager tasks; the in-memory
    # transport keeps kombu from reaching for amqp://localhost and warning about it.
    app.conf.broker_url = "memory://localhost/"
app.autodiscover_tasks()

# Beat's schedule (documented in the README, section "Celery"); the task names are those of cases.dispatch.
app.conf.beat_schedule = {
    "retrain-tagger-weekly": {"task": "cases.retrain_tagger", "schedule": crontab(hour=3, minute=0, day_of_week="sunday")},
    # The derived tables behind the editors' figures are refreshed after every change; the nightly
    # rebuild repairs whatever a lost task missed.
    "rebuild-aggregates-nightly": {"task": "cases.rebuild_aggregates", "schedule": crontab(hour=2, minute=30)},
    # The deadline digest to the quality officers; the task itself skips holidays and closing days.
    "deadline-scan-daily": {"task": "cases.deadline_digest", "schedule": crontab(hour=6, minute=30, day_of_week="mon-fri")},
    # The outbox relay: releases held acknowledgements, writes missing ones, requeues lost sends.
    "outbox-relay": {"task": "cases.outbox_relay", "schedule": 5 * 60.0},
    # The inbound relay: processes mail, and registers web form submissions, that a crash left stored.
    "inbound-relay": {"task": "cases.inbound_relay", "schedule": 5 * 60.0},
    # The conversation: some working days after closure the citizen is asked once how satisfied they were.
    "satisfaction-survey": {"task": "cases.satisfaction_survey", "schedule": crontab(hour=9, minute=15, day_of_week="mon-fri")},
    "consents-expire": {"task": "cases.consents_expire", "schedule": crontab(hour=6, minute=10)},
    # Records: mail that never became part of a case is wiped once its term has passed (AVG art. 5 lid 1 sub e).
    "loose-mail-expire": {"task": "cases.loose_mail_expire", "schedule": crontab(hour=4, minute=15)},
    # The CMS: a norm or page revision scheduled in the editor ("go live at", "expire at") goes live on time.
    "publish-scheduled": {"task": "cases.publish_scheduled", "schedule": 5 * 60.0},
}
