"""The daily deadline digest to the quality officers: today's ``deadline_scan`` as one e-mail, at most once a day.

A ``DeadlineDigest`` row per date keeps it to one mail, also when two scans run at once; the
thin beat task is ``cases.tasks.deadline_scan_daily``.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from cases.correspondence.composing import render_text, tidy_text
from cases.models import DeadlineDigest
from cases.workflow.calendar import default_calendar
from cases.workflow.deadline_scan import DeadlineScan, deadline_scan
from cases.workflow.deadlines import DUE_SOON_WORKING_DAYS
from cms.roles import QUALITY_OFFICERS

logger = logging.getLogger(__name__)


def quality_officer_emails() -> list[str]:
    """The active quality officers (group Kwaliteitsmedewerkers) that have an e-mail address."""
    users = get_user_model().objects.filter(is_active=True, groups__name=QUALITY_OFFICERS).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def deadline_digest_send(*, today: datetime.date | None = None) -> str:
    """Mail today's scan to the quality officers, at most once a day; returns what happened.

    ``"not a working day"``, ``"already sent"``, ``"nothing to report"``, ``"no recipients"`` or ``"sent"``.
    Run twice on a day, the second run finds the day's row sent (locked, so also when both run at once).
    """
    today = today or timezone.localdate()
    if not default_calendar().is_working_day(today):
        logger.info("deadline scan: %s is no working day; nothing sent", today)
        return "not a working day"
    with transaction.atomic():
        DeadlineDigest.objects.get_or_create(date=today)
        digest = DeadlineDigest.objects.select_for_update().get(date=today)
        if digest.sent_at is not None:
            logger.info("deadline digest of %s was sent at %s; not again", today, digest.sent_at)
            return "already sent"
        scan = deadline_scan(today=today)
        recipients = quality_officer_emails()
        context = {"scan": scan, "today": today, "workspace_url": settings.BASE_URL.rstrip("/") + "/beheer/", "due_soon_days": DUE_SOON_WORKING_DAYS}
        subject = " ".join(render_text("letters/digest/subject.txt", context).split())
        body = tidy_text(render_text("letters/digest/body.txt", context))
        digest.summary = asdict_summary(scan)
        digest.body_text = body
        digest.recipients = ",".join(recipients)
        if scan.is_empty():
            digest.save()
            logger.info("deadline scan %s: nothing needs attention; no digest mailed", today)
            return "nothing to report"
        if not recipients:
            digest.save()
            logger.warning("deadline scan %s: no quality officer with an e-mail address; digest not mailed", today)
            return "no recipients"
        email = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            headers={"Auto-Submitted": "auto-generated", "Message-ID": make_msgid(idstring=f"digest.{today:%Y%m%d}", domain=settings.HANDVEST_MAIL_DOMAIN)},
        )
        email.send(fail_silently=False)
        digest.sent_at = timezone.now()
        digest.save()
    logger.info("deadline digest of %s mailed to %s officer(s)", today, len(recipients))
    return "sent"


def asdict_summary(scan: DeadlineScan) -> dict:
    summary = scan.summary()
    summary["items"] = {name: [_jsonable(asdict(item)) for item in getattr(scan, name)] for name in scan.SECTIONS}
    return summary


def _jsonable(data: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in data.items()}
