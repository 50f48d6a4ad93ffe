"""The clock: a daily scan of deadlines, in working days, mailed to the quality officers as one digest.

``deadline_scan`` is a selector (the officers' workspace can show the same lists);
``deadline_digest_send`` mails it at most once a day (a ``DeadlineDigest`` row per date);
``deadline_scan_daily`` is the thin beat task (schedule in ``config/celery.py``).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass, field
from email.utils import make_msgid

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.calendar import default_calendar
from cases.models import (
    DUE_SOON_WORKING_DAYS,
    Case,
    CaseState,
    DeadlineDigest,
    LetterKind,
    OutboxStatus,
    OutgoingMessage,
)
from cases.services.correspondence import render_text, tidy_text
from cms.roles import QUALITY_OFFICERS

logger = logging.getLogger(__name__)

__all__ = ["DeadlineScan", "ScanItem", "deadline_digest_send", "deadline_scan", "deadline_scan_daily", "quality_officer_emails"]

# States in which the next deadline is the answer (Case.next_deadline).
ANSWER_STATES = [state for state in CaseState.open_states() if state not in (CaseState.RECEIVED, CaseState.ANSWERED, CaseState.RESPONDED)]
# An interim notice that is on its way or went out counts; a failed or suppressed one does not.
NOTICE_COUNTS = [OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED]


@dataclass(frozen=True)
class ScanItem:
    """One case in the digest."""

    case_id: int
    number: str
    kind: str
    state: str
    deadline: str  # "acknowledgement" or "answer"
    due: datetime.date
    working_days_left: int  # negative when overdue
    assigned: str = ""
    note: str = ""

    @property
    def days_overdue(self) -> int:
        return max(-self.working_days_left, 0)


@dataclass
class DeadlineScan:
    """What needs the officers' attention on ``today``."""

    today: datetime.date
    acknowledgements_due: list[ScanItem] = field(default_factory=list)
    answers_due_soon: list[ScanItem] = field(default_factory=list)
    overdue: list[ScanItem] = field(default_factory=list)
    interim_notice_needed: list[ScanItem] = field(default_factory=list)
    failed_letters: list[ScanItem] = field(default_factory=list)
    letters_to_print: int = 0

    SECTIONS = ("overdue", "acknowledgements_due", "answers_due_soon", "interim_notice_needed", "failed_letters")

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.SECTIONS) and not self.letters_to_print

    def summary(self) -> dict:
        """Registration numbers per section (kept on the DeadlineDigest row)."""
        data: dict = {name: [item.number for item in getattr(self, name)] for name in self.SECTIONS}
        data["letters_to_print"] = self.letters_to_print
        return data


def _item(case: Case, deadline: str, due: datetime.date, today: datetime.date, note: str = "") -> ScanItem:
    assigned = (case.assigned_to.get_full_name() or case.assigned_to.get_username()) if case.assigned_to_id else ""
    return ScanItem(
        case_id=case.pk,
        number=case.registration.number,
        kind=str(case.get_kind_display()),
        state=str(case.get_state_display()),
        deadline=deadline,
        due=due,
        working_days_left=default_calendar().working_days_between(today, due),
        assigned=assigned,
        note=note,
    )


def deadline_scan(*, today: datetime.date | None = None) -> DeadlineScan:
    """Acknowledgements still to go, answers due within DUE_SOON_WORKING_DAYS working days, overdue
    cases, cases that need an interim notice (Awb 9:11 lid 2), and letters that failed."""
    today = today or timezone.localdate()
    calendar = default_calendar()
    soon_limit = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    with_notice = set(OutgoingMessage.objects.filter(kind=LetterKind.INTERIM_NOTICE, status__in=NOTICE_COUNTS).values_list("case_id", flat=True))
    acknowledgement_state = {
        row["case_id"]: row for row in OutgoingMessage.objects.filter(kind=LetterKind.ACKNOWLEDGEMENT).values("case_id", "status", "last_error")
    }
    cases = (
        Case.objects.filter(merged_into__isnull=True)
        .annotate(effective_due=Coalesce("extended_answer_due", "answer_due"))
        .filter(
            Q(state=CaseState.RECEIVED)
            | Q(state__in=ANSWER_STATES, effective_due__lte=soon_limit)
            | Q(state__in=ANSWER_STATES, extended_answer_due__isnull=False)
        )
        .select_related("registration", "assigned_to")
        .order_by("effective_due", "pk")
    )
    scan = DeadlineScan(today=today)
    for case in cases:
        if case.state == CaseState.RECEIVED:
            ack = acknowledgement_state.get(case.pk)
            note = ""
            if ack is not None:
                note = OutboxStatus(ack["status"]).label + (f": {ack['last_error']}" if ack["last_error"] else "")
            item = _item(case, "acknowledgement", case.acknowledgement_due, today, str(note))
            (scan.overdue if case.acknowledgement_due < today else scan.acknowledgements_due).append(item)
            continue
        due = case.effective_answer_due
        item = _item(case, "answer", due, today)
        if due < today:
            scan.overdue.append(item)
        elif due <= soon_limit:
            scan.answers_due_soon.append(item)
        not_extended_and_short = case.extended_answer_due is None and due <= soon_limit
        extended_without_notice = case.extended_answer_due is not None and case.pk not in with_notice
        if not_extended_and_short or extended_without_notice:
            scan.interim_notice_needed.append(item)
    for message in OutgoingMessage.objects.filter(status=OutboxStatus.FAILED).select_related("case__registration", "case__assigned_to").order_by("created_at"):
        scan.failed_letters.append(_item(message.case, "letter", message.created_at.date(), today, f"{LetterKind(message.kind).label}: {message.last_error}"))
    scan.letters_to_print = OutgoingMessage.objects.filter(status=OutboxStatus.TO_PRINT).count()
    return scan


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


@shared_task(autoretry_for=(Exception,), retry_backoff=300, max_retries=3)
def deadline_scan_daily() -> str:
    """Beat, every weekday morning: the deadline digest (skips holidays and closing days itself).

    Retried on errors (the mail server may be down); the day's row keeps it to one mail.
    """
    return deadline_digest_send()
