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

from cases.calendar import default_calendar
from cases.correspondence.composing import render_text, tidy_text
from cases.models import DeadlineDigest
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

    ``"not a working day"``, ``"already sent"``, ``"being sent"``, ``"nothing to report"``, ``"no recipients"``
    or ``"sent"``. The day's row is claimed in one transaction and the mail goes after its commit, as the
    outbox does with a letter: a commit that fails after the mail went can no longer send it a second
    time, and no row lock is held while the mail server answers. A send that fails gives the claim
    back, so the task's retry sends it; a process that dies while sending leaves the day claimed
    (``"being sent"``), and the next working day's digest lists everything again.
    """
    today = today or timezone.localdate()
    if not default_calendar().is_working_day(today):
        logger.info("deadline scan: %s is no working day; nothing sent", today)
        return "not a working day"
    claimed = _claim(today)
    if isinstance(claimed, str):
        return claimed
    digest_id, email = claimed
    try:
        email.send(fail_silently=False)
    except Exception:
        DeadlineDigest.objects.filter(pk=digest_id, sent_at__isnull=True).update(sending_at=None)
        logger.warning("deadline digest of %s not mailed; it may be sent again", today)
        raise
    DeadlineDigest.objects.filter(pk=digest_id).update(sent_at=timezone.now())
    logger.info("deadline digest of %s mailed to %s officer(s)", today, len(email.to))
    return "sent"


def _claim(today: datetime.date) -> str | tuple[int, EmailMessage]:
    """The day's row, locked: why nothing is to be sent, or the claimed row's id and the mail to send."""
    with transaction.atomic():
        DeadlineDigest.objects.get_or_create(date=today)
        digest = DeadlineDigest.objects.select_for_update().get(date=today)
        if digest.sent_at is not None:
            logger.info("deadline digest of %s was sent at %s; not again", today, digest.sent_at)
            return "already sent"
        if digest.sending_at is not None:
            logger.warning("deadline digest of %s was being sent since %s; not again", today, digest.sending_at)
            return "being sent"
        scan = deadline_scan(today=today)
        recipients = quality_officer_emails()
        context = {"scan": scan, "today": today, "workspace_url": settings.BASE_URL.rstrip("/") + "/beheer/", "due_soon_days": DUE_SOON_WORKING_DAYS}
        digest.summary = asdict_summary(scan)
        digest.body_text = tidy_text(render_text("letters/digest/body.txt", context))
        digest.recipients = ",".join(recipients)
        if scan.is_empty() or not recipients:
            digest.save()
            if scan.is_empty():
                logger.info("deadline scan %s: nothing needs attention; no digest mailed", today)
                return "nothing to report"
            logger.warning("deadline scan %s: no quality officer with an e-mail address; digest not mailed", today)
            return "no recipients"
        digest.sending_at = timezone.now()
        digest.save()
    email = EmailMessage(
        subject=" ".join(render_text("letters/digest/subject.txt", context).split()),
        body=digest.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Auto-Submitted": "auto-generated", "Message-ID": make_msgid(idstring=f"digest.{today:%Y%m%d}", domain=settings.HANDVEST_MAIL_DOMAIN)},
    )
    return digest.pk, email


def asdict_summary(scan: DeadlineScan) -> dict:
    summary = scan.summary()
    summary["items"] = {name: [_jsonable(asdict(item)) for item in getattr(scan, name)] for name in scan.SECTIONS}
    return summary


def _jsonable(data: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in data.items()}
