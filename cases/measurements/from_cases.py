"""Norms that Handvest measures itself, from the cases: no import needed.

* ``acknowledgements`` (charter POST-ONTVANGSTBEVESTIGING; Awb 9:6): the *ontvangstbevestiging*
  left within the term after the date of receipt (4 working days in the 2017 charter). A case
  answered or closed within the workflow's acknowledgement term needed none ("gelijk te
  beantwoorden") and is no observation; an unacknowledged case is one once its term has passed.
* ``answers`` (charter POST-REACTIE; Awb 9:11): a substantive answer within the term (6 weeks),
  or, the charter's exception, an interim notice (the extension, Awb 9:11(2)) given within that
  term and the answer within the extended term. Withdrawn cases owed no answer; an open case is
  an observation once its (extended) term has passed.

Counted from ``CaseFact`` (``cases.reporting.rollup``), per date of receipt, with the term of
the target version that judges the period of receipt, on the workflow's own working-day
calendar (``cases.calendar``). Grouped in SQL by the dates that matter, so a million
cases are a few thousand groups here.
"""

from __future__ import annotations

import bisect
import datetime

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q

from cases.calendar import WorkingCalendar, default_calendar
from cases.measurements.targets import PeriodSpec, term_end
from cases.models import CaseFact
from cms.models import MeasuredFrom

Counts = list[list[int]]  # per period: [observations, within]


class _Terms:
    """The period a day of receipt falls in, and the term's end for it, each computed once."""

    def __init__(self, periods: list[PeriodSpec], calendar: WorkingCalendar):
        self.periods = periods
        self.starts = [period.start for period in periods]
        self.calendar = calendar
        self.ends: dict[tuple[datetime.date, int], datetime.date] = {}

    def index(self, day: datetime.date) -> int:
        """The period ``day`` falls in, or -1 (the periods asked for need not be contiguous)."""
        index = bisect.bisect_right(self.starts, day) - 1
        return index if index >= 0 and day < self.periods[index].end else -1

    def due(self, day: datetime.date, index: int) -> datetime.date:
        key = (day, index)
        if key not in self.ends:
            self.ends[key] = term_end(self.calendar, day, self.periods[index].version)
        return self.ends[key]


def _facts(periods: list[PeriodSpec]):
    return CaseFact.objects.filter(received_on__gte=periods[0].start, received_on__lt=periods[-1].end)


def acknowledgement_counts(periods: list[PeriodSpec], *, as_of: datetime.date) -> Counts:
    """Per period of receipt: acknowledgements owed, and those that left within the term."""
    counts = [[0, 0] for _period in periods]
    if not periods:
        return counts
    terms = _Terms(periods, default_calendar())
    answered_at_once = ExpressionWrapper(
        Q(acknowledged_on__isnull=True, finished_on__isnull=False, finished_on__lte=F("acknowledgement_due")), output_field=BooleanField()
    )
    rows = _facts(periods).annotate(at_once=answered_at_once).values_list("received_on", "acknowledged_on", "at_once").annotate(n=Count("pk")).order_by()
    for received, acknowledged, at_once, number in rows:
        if at_once:
            continue
        index = terms.index(received)
        if index < 0:
            continue
        due = terms.due(received, index)
        if acknowledged is None and due >= as_of:
            continue
        counts[index][0] += number
        if acknowledged is not None and acknowledged <= due:
            counts[index][1] += number
    return counts


def _answer_outcome(handled, extended, extended_due, due, as_of) -> bool | None:
    """True within (in time, or after a timely interim notice within the extended term), False late, None not yet due."""
    if handled is not None and handled <= due:
        return True
    notice_in_time = extended is not None and extended <= due
    if notice_in_time:
        if handled is not None:
            return handled <= extended_due
        return None if extended_due >= as_of else False
    if handled is None and due >= as_of:
        return None
    return False


def answer_counts(periods: list[PeriodSpec], *, as_of: datetime.date) -> Counts:
    """Per period of receipt: answers owed, and those given within the term or after a timely interim notice."""
    counts = [[0, 0] for _period in periods]
    if not periods:
        return counts
    terms = _Terms(periods, default_calendar())
    rows = (
        _facts(periods)
        .exclude(CaseFact.withdrawn_by(as_of))
        .values_list("received_on", "handled_on", "extended_on", "extended_answer_due")  # not a reopening's term
        .annotate(n=Count("pk"))
        .order_by()
    )
    for received, handled, extended, extended_due, number in rows:
        index = terms.index(received)
        if index < 0:
            continue
        outcome = _answer_outcome(handled, extended, extended_due, terms.due(received, index), as_of)
        if outcome is None:
            continue
        counts[index][0] += number
        counts[index][1] += number if outcome else 0
    return counts


COUNTERS = {MeasuredFrom.ACKNOWLEDGEMENTS: acknowledgement_counts, MeasuredFrom.ANSWERS: answer_counts}


def case_counts(measured_from: str, periods: list[PeriodSpec], *, as_of: datetime.date) -> Counts:
    return COUNTERS[measured_from](periods, as_of=as_of)
