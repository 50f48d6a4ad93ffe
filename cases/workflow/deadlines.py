"""The terms of complaint handling, counted in Dutch working days (``cases.workflow.calendar``).

One place for each term: the acknowledgement (charter; Awb 9:6), the answer (Awb 9:11 lid 1),
its one extension (Awb 9:11 lid 2) and the call-back (charter, TEL-TERUGBELLEN); and for what
"soon" and "overdue" mean beside a case.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from cases.models import Case
from cases.workflow.calendar import default_calendar

ACK_WORKING_DAYS = 4  # charter; Awb 9:6
ANSWER_WEEKS = 6  # charter; Awb 9:11(1)
MAX_EXTENSION_WEEKS = 4  # Awb 9:11(2)
CALLBACK_WORKING_DAYS = 2  # charter, TEL-TERUGBELLEN
DUE_SOON_WORKING_DAYS = 5


def case_deadlines(*, received_on: datetime.date, callback_requested: bool = False) -> dict[str, datetime.date | None]:
    """The terms of a new case, from its date of receipt."""
    calendar = default_calendar()
    return {
        "acknowledgement_due": calendar.add_working_days(received_on, ACK_WORKING_DAYS),
        "answer_due": calendar.add_weeks(received_on, ANSWER_WEEKS),
        "callback_due": calendar.add_working_days(received_on, CALLBACK_WORKING_DAYS) if callback_requested else None,
    }


def reopened_answer_due(*, reopened_on: datetime.date) -> datetime.date:
    """A reopened case is answered again within the charter's answer term, counted from the day it was reopened."""
    return default_calendar().add_weeks(reopened_on, ANSWER_WEEKS)


def latest_extension_date(case: Case) -> datetime.date:
    """Awb 9:11(2): at most four weeks after the original answer term."""
    return case.answer_due + datetime.timedelta(weeks=MAX_EXTENSION_WEEKS)


def due_soon_limit(today: datetime.date) -> datetime.date:
    """The first day that is no longer 'soon': more than DUE_SOON_WORKING_DAYS working days after ``today``."""
    return default_calendar().add_working_days(today, DUE_SOON_WORKING_DAYS + 1)


def deadline_status(case: Case, today: datetime.date | None = None) -> str:
    """'overdue', 'soon' (within DUE_SOON_WORKING_DAYS working days), 'ok' or 'none'."""
    deadline = case.next_deadline()
    if deadline is None:
        return "none"
    today = today or timezone.localdate()
    due = deadline[1]
    if today > due:
        return "overdue"
    if default_calendar().working_days_between(today, due) <= DUE_SOON_WORKING_DAYS:
        return "soon"
    return "ok"
