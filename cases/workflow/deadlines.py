"""The terms of complaint handling, counted in Dutch working days (``cases.calendar``).

One place for each term: the acknowledgement (charter; Awb 9:6), the answer (charter, at most Awb 9:11
lid 1's six weeks), its one extension (Awb 9:11 lid 2) and the call-back; and for what "soon" and
"overdue" mean beside a case.

The acknowledgement and answer terms are the charter's own: the published norms counted from the
cases (``measured_from`` acknowledgements and answers, a term in working days, days or weeks). A
municipality that promises an answer within 4 weeks gets cases due in 4 weeks, letters and pages that
say so. Without such a norm the law's answer term and a common acknowledgement term apply. Each process
keeps the terms a minute (``cms.kept``); saving a norm forgets them at once in its process.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.calendar import default_calendar
from cases.models import Case
from cms.kept import forget, kept
from cms.models import MeasuredFrom, ServiceNorm, TargetKind, TargetUnit, unit_text

MAX_EXTENSION_WEEKS = 4  # Awb 9:11(2)
# The call-back asked for at the counter or on the phone follows the norm of this stable code (design's norm codes).
CALLBACK_NORM = "TEL-TERUGBELLEN"
DUE_SOON_WORKING_DAYS = 5
TERM_UNITS = (TargetUnit.WORKING_DAYS, TargetUnit.DAYS, TargetUnit.WEEKS)
SAME_DAY_UNITS = (TargetUnit.HOURS, TargetUnit.MINUTES)  # a call-back "binnen 4 uur": due that working day


@dataclass(frozen=True)
class Term:
    amount: int
    unit: str  # a TargetUnit: working_days, days or weeks

    def after(self, day: datetime.date) -> datetime.date:
        if self.unit in SAME_DAY_UNITS:
            return default_calendar().add_working_days(day, 0)
        return default_calendar().add_term(day, self.amount, self.unit)

    @property
    def text(self) -> str:
        """In words, e.g. '4 werkdagen', '1 week'."""
        return f"{self.amount} {unit_text(self.amount, self.unit)}"


LEGAL_ANSWER = Term(6, TargetUnit.WEEKS)  # Awb 9:11 lid 1: the longest answer term the law allows
DEFAULT_ACKNOWLEDGEMENT = Term(4, TargetUnit.WORKING_DAYS)  # when the charter promises none (Awb 9:6 sets no term)
DEFAULT_CALLBACK = Term(2, TargetUnit.WORKING_DAYS)


@dataclass(frozen=True)
class CharterTerms:
    acknowledgement: Term
    answer: Term
    callback: Term

    def answer_after(self, day: datetime.date) -> datetime.date:
        """The charter's answer term, never later than the law's."""
        return min(self.answer.after(day), LEGAL_ANSWER.after(day))


CHARTER_TERMS = "workflow.charter_terms"


def charter_terms() -> CharterTerms:
    return kept(CHARTER_TERMS, _read_terms)


def _read_terms() -> CharterTerms:
    found: dict[str, Term] = {}
    norms = ServiceNorm.objects.published_active().filter(
        Q(measured_from__in=[MeasuredFrom.ACKNOWLEDGEMENTS, MeasuredFrom.ANSWERS], target_unit__in=TERM_UNITS)
        | Q(code=CALLBACK_NORM, target_unit__in=(*TERM_UNITS, *SAME_DAY_UNITS)),
        target_kind=TargetKind.TERM,
        target_amount__isnull=False,
    )
    today = timezone.localdate()
    for code, measured_from, amount, unit in norms.order_by().values_list("code", "measured_from", "target_amount", "target_unit"):
        role, term = (CALLBACK_NORM if code == CALLBACK_NORM else measured_from), Term(amount, unit)
        # Two norms promising the same thing (by post, by web): the case is held to the shorter.
        if role not in found or term.after(today) < found[role].after(today):
            found[role] = term
    answer = found.get(MeasuredFrom.ANSWERS, LEGAL_ANSWER)
    if answer.after(today) > LEGAL_ANSWER.after(today):
        answer = LEGAL_ANSWER  # a charter cannot promise more time than the law gives (Awb 9:11 lid 1)
    return CharterTerms(
        acknowledgement=found.get(MeasuredFrom.ACKNOWLEDGEMENTS, DEFAULT_ACKNOWLEDGEMENT),
        answer=answer,
        callback=found.get(CALLBACK_NORM, DEFAULT_CALLBACK),
    )


def forget_charter_terms(**kwargs) -> None:
    """A norm was saved (published, revised, retired): the next case reads the charter's terms again, also
    after the save commits (a request in between may have read the old terms; a rolled-back save is not kept)."""
    forget(CHARTER_TERMS)
    transaction.on_commit(lambda: forget(CHARTER_TERMS))


def case_deadlines(*, received_on: datetime.date, callback_requested: bool = False) -> dict[str, datetime.date | None]:
    """The terms of a new case, from its date of receipt."""
    terms = charter_terms()
    return {
        "acknowledgement_due": terms.acknowledgement.after(received_on),
        "answer_due": terms.answer_after(received_on),
        "callback_due": terms.callback.after(received_on) if callback_requested else None,
    }


def reopened_answer_due(*, reopened_on: datetime.date) -> datetime.date:
    """A reopened case is answered again within the charter's answer term, counted from the day it was reopened."""
    return charter_terms().answer_after(reopened_on)


def latest_extension_date(case: Case) -> datetime.date:
    """Awb 9:11(2): at most four weeks after the answer term that runs (a reopened case's is its new one), rolled
    forward past a weekend, holiday or closing day as every term (Atw art. 1). The one definition: ``case_extend``
    enforces it and the case page names it."""
    return default_calendar().add_weeks(case.current_term_due(), MAX_EXTENSION_WEEKS)


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
