"""The clock: which cases need the officers' attention today, counted in working days.

``deadline_scan`` is a selector: the daily digest (``cases.correspondence.digest``) mails it, and
the officers' workspace can show the same lists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from cases.calendar import default_calendar
from cases.models import Case, CaseState, LetterKind, OutboxStatus, OutgoingMessage, callback_owed_q, effective_answer_due_sql
from cases.workflow.deadlines import DUE_SOON_WORKING_DAYS

# An interim notice that is on its way or went out counts; a failed or suppressed one does not.
NOTICE_COUNTS = [OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED, OutboxStatus.POSTED]


@dataclass(frozen=True)
class ScanItem:
    """One case in the digest."""

    case_id: int
    number: str
    kind: str
    state: str
    deadline: str  # "acknowledgement", "answer", "callback" or "letter"
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
    callbacks_due: list[ScanItem] = field(default_factory=list)
    answers_due_soon: list[ScanItem] = field(default_factory=list)
    overdue: list[ScanItem] = field(default_factory=list)
    interim_notice_needed: list[ScanItem] = field(default_factory=list)
    failed_letters: list[ScanItem] = field(default_factory=list)
    letters_to_print: int = 0

    SECTIONS = ("overdue", "acknowledgements_due", "callbacks_due", "answers_due_soon", "interim_notice_needed", "failed_letters")

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


def _acknowledgement_item(case: Case, today: datetime.date, acknowledgements: dict) -> ScanItem:
    """A case still waiting for its acknowledgement, with how its letter is doing."""
    ack = acknowledgements.get(case.pk)
    note = ""
    if ack is not None:
        note = OutboxStatus(ack["status"]).label + (f": {ack['last_error']}" if ack["last_error"] else "")
    return _item(case, "acknowledgement", case.acknowledgement_due, today, str(note))


def _add_callback_item(scan: DeadlineScan, case: Case) -> None:
    """A call-back still owed (TEL-TERUGBELLEN): overdue, or due within the coming working days."""
    item = _item(case, "callback", case.callback_due, scan.today)
    (scan.overdue if case.callback_due < scan.today else scan.callbacks_due).append(item)


def _add_answer_item(scan: DeadlineScan, case: Case, soon_limit: datetime.date, with_notice: set[int]) -> None:
    """Sort a case whose answer term runs into overdue / due soon, and flag a missing interim notice (Awb 9:11 lid 2)."""
    due = case.effective_answer_due
    item = _item(case, "answer", due, scan.today)
    if due < scan.today:
        scan.overdue.append(item)
    elif due <= soon_limit:
        scan.answers_due_soon.append(item)
    not_extended_and_short = case.not_extended_yet() and due <= soon_limit
    extended_without_notice = case.extended_answer_due is not None and case.pk not in with_notice
    if not_extended_and_short or extended_without_notice:
        scan.interim_notice_needed.append(item)


def _cases_to_watch(soon_limit: datetime.date):
    awaiting_answer = CaseState.awaiting_answer_states()
    return (
        Case.objects.filter(merged_into__isnull=True)
        .annotate(effective_due=effective_answer_due_sql())
        .filter(
            Q(state=CaseState.RECEIVED)
            | Q(state__in=awaiting_answer, effective_due__lte=soon_limit)
            | Q(state__in=awaiting_answer, extended_answer_due__isnull=False)
            | (callback_owed_q() & Q(callback_due__lte=soon_limit))
        )
        .select_related("registration", "assigned_to")
        .order_by("effective_due", "pk")
    )


def deadline_scan(*, today: datetime.date | None = None) -> DeadlineScan:
    """Acknowledgements still to go, call-backs and answers due within DUE_SOON_WORKING_DAYS working days, overdue
    cases, cases that need an interim notice (Awb 9:11 lid 2), and letters that failed."""
    today = today or timezone.localdate()
    soon_limit = default_calendar().add_working_days(today, DUE_SOON_WORKING_DAYS)
    with_notice = set(OutgoingMessage.objects.filter(kind=LetterKind.INTERIM_NOTICE, status__in=NOTICE_COUNTS).values_list("case_id", flat=True))
    acknowledgements = {
        row["case_id"]: row for row in OutgoingMessage.objects.filter(kind=LetterKind.ACKNOWLEDGEMENT).values("case_id", "status", "last_error")
    }
    scan = DeadlineScan(today=today)
    for case in _cases_to_watch(soon_limit):
        if case.callback_owed() and case.callback_due <= soon_limit:
            _add_callback_item(scan, case)
        if case.state == CaseState.RECEIVED:
            item = _acknowledgement_item(case, today, acknowledgements)
            (scan.overdue if case.acknowledgement_due < today else scan.acknowledgements_due).append(item)
        else:
            _add_answer_item(scan, case, soon_limit, with_notice)
    troubled = OutgoingMessage.objects.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.UNKNOWN]).select_related("case__registration", "case__assigned_to")
    for message in troubled.order_by("created_at"):
        written_on = timezone.localdate(message.created_at)
        scan.failed_letters.append(_item(message.case, "letter", written_on, today, f"{LetterKind(message.kind).label}: {message.last_error}"))
    scan.letters_to_print = OutgoingMessage.objects.filter(status__in=[OutboxStatus.TO_PRINT, OutboxStatus.PRINTED]).count()
    return scan
