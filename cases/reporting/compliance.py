"""Selectors: how well the municipality keeps its own complaint-handling promises.

Computed from ``CaseFact`` (one row per case, see ``cases.reporting.rollup``) for the cases
received in a period, as on a reference day ``as_of`` (an open case counts as late once its
term has passed on that day):

* *ontvangstbevestiging* within 4 working days (charter POST-ONTVANGSTBEVESTIGING; Awb 9:6):
  the acknowledgement left on or before ``acknowledgement_due``, which registration computed in
  Dutch working days. A case answered or closed within that term needs none and is left out.
* answer within 6 weeks (charter POST-REACTIE; Awb 9:11(1)): handled on or before ``answer_due``;
  and within the term that applied, the extended one when the term was extended (Awb 9:11(2)).
  Withdrawn cases are left out: no answer was owed.
* call-back when promised (charter TEL-TERUGBELLEN): the citizen was reached on or before
  ``callback_due``, the day intake computed in Dutch working days (2 in the 2017 charter). Only
  cases with a promised call-back count. As with the acknowledgement, a call-back made counts
  (kept or late); one never made counts as late once its day has passed, unless the citizen got an
  explanation, answer or decision, or withdrew, on or before that day: then no call-back was owed
  any more (``Case.callback_owed``) and it is left out (``callback_not_needed``), not counted as kept.
* interim notice when needed: a case not handled within 6 weeks needed one; it was given in
  time when the term was extended (which sends the *tussentijdse mededeling*) on or before the
  original ``answer_due``.
* handling time: calendar days from receipt to the answer or decision; median and 90th
  percentile, interpolated as PostgreSQL's ``percentile_cont`` does.
* outcomes: closed cases per outcome (gegrond, deels gegrond, ongegrond, ...).

Shares and handling times of fewer than ``HANDVEST_SMALL_CELL`` cases are not shown.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CaseFact, ComplaintOutcome, Kind, SuggestionOutcome
from cases.reporting.figures import Figure, small_cell_threshold
from cases.workflow.deadlines import Term, case_deadlines, charter_terms

# Buckets of the handling-time histogram, in calendar days (upper bounds, inclusive).
HANDLING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-14", 14),
    ("15-28", 28),
    ("29-42", 42),
    ("43-70", 70),
    ("71+", None),
)


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole`` cases; the percentage is only shown for ``threshold`` cases or more."""

    part: int
    whole: int
    threshold: int

    @property
    def percent(self) -> float | None:
        # Not beside a part shown as "<threshold": 20 % of 10 would give the hidden 2 away.
        if self.whole == 0 or self.whole < self.threshold or 0 < self.part < self.threshold:
            return None
        # Rounded down, in integers: 999 of 1,000 answers on time is 99.9%, never a 100.0% that was not reached.
        return (1000 * self.part // self.whole) / 10

    @property
    def part_figure(self) -> Figure:
        return Figure(self.part, self.threshold)

    @property
    def whole_figure(self) -> Figure:
        return Figure(self.whole, self.threshold)

    def __str__(self) -> str:
        return "—" if self.percent is None else f"{self.percent:.1f}%".replace(".", ",")


@dataclass(frozen=True)
class HandlingTime:
    """Calendar days from receipt to answer, over ``handled`` cases; None when too few to show."""

    handled: Figure
    median: float | None
    p90: float | None
    buckets: tuple[tuple[str, Figure], ...]


@dataclass(frozen=True)
class ComplianceFigures:
    start: datetime.date
    end: datetime.date
    as_of: datetime.date
    kinds: tuple[str, ...]
    received: Figure
    acknowledgement_on_time: Share
    acknowledgement_not_needed: Figure
    answer_within_six_weeks: Share
    answer_within_term: Share
    interim_notice_in_time: Share
    callback_on_time: Share
    callback_not_needed: Figure
    handling: HandlingTime
    outcomes: dict[str, Figure]
    open_cases: Figure
    overdue_cases: Figure


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The ``fraction`` percentile of the values counted in ``histogram`` (value → how often),
    interpolated linearly between the two nearest ranks (PostgreSQL ``percentile_cont``)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    lower_rank, upper_rank = math.floor(position), math.ceil(position)
    values = sorted(histogram)

    def value_at(rank: int) -> int:
        seen = 0
        for value in values:
            seen += histogram[value]
            if rank < seen:
                return value
        return values[-1]

    lower, upper = value_at(lower_rank), value_at(upper_rank)
    return round(lower + (upper - lower) * (position - lower_rank), 1)


ALL_KINDS = "all"


def _counters(as_of: datetime.date) -> dict[str, Count]:
    """Every count the compliance figures need, as conditional COUNTs over the case facts."""
    acknowledged = Q(acknowledged_on__isnull=False, acknowledged_on__lte=as_of)
    finished_in_ack_term = Q(finished_on__isnull=False, finished_on__lte=F("acknowledgement_due"))
    ack_needed = acknowledged | (Q(acknowledgement_due__lt=as_of) & ~finished_in_ack_term)
    # As it stood on ``as_of``: a case finished after it had not made the acknowledgement unneeded yet.
    not_needed = Q(acknowledged_on__isnull=True, finished_on__lte=as_of) & finished_in_ack_term
    # As it stood on ``as_of``: an answer or an ending after it had not happened yet.
    handled = Q(handled_on__isnull=False, handled_on__lte=as_of)
    # A reopened case being handled again is open too, though its first answer stays its handled_on.
    open_case = Q(finished_on__isnull=True) | Q(finished_on__gt=as_of) | Q(answered=False, closed=False)
    not_withdrawn = ~CaseFact.withdrawn_by(as_of)
    six_weeks_due = not_withdrawn & (handled | Q(answer_due__lt=as_of))
    term_due = not_withdrawn & (handled | Q(effective_answer_due__lt=as_of))
    finished = Q(finished_on__isnull=False, finished_on__lte=as_of)
    notice_needed = (finished & Q(finished_on__gt=F("answer_due"))) | (~finished & Q(answer_due__lt=as_of))
    # The extended term counts only when the extension came within the first (Awb 9:11 lid 2).
    # (The extended term, not a reopening's: the first answer is judged against the term it had.)
    in_term = Q(handled_on__lte=F("answer_due")) | Q(extended_on__lte=F("answer_due"), handled_on__lte=F("extended_answer_due"))
    # The call-back, judged as the acknowledgement is; spoken to otherwise by its day, none was owed.
    promised = Q(callback_due__isnull=False)
    called_back = Q(called_back_on__isnull=False, called_back_on__lte=as_of)
    superseded_in_term = Q(callback_superseded_on__isnull=False, callback_superseded_on__lte=F("callback_due"))
    callback_needed = promised & (called_back | (Q(callback_due__lt=as_of) & ~superseded_in_term))
    callback_not_needed = promised & Q(called_back_on__isnull=True, callback_superseded_on__lte=as_of) & superseded_in_term
    return {
        "received": Count("pk"),
        "ack_whole": Count("pk", filter=ack_needed),
        "ack_part": Count("pk", filter=acknowledged & Q(acknowledged_on__lte=F("acknowledgement_due"))),
        "ack_not_needed": Count("pk", filter=not_needed),
        "six_whole": Count("pk", filter=six_weeks_due),
        "six_part": Count("pk", filter=handled & Q(handled_on__lte=F("answer_due"))),
        "term_whole": Count("pk", filter=term_due),
        "term_part": Count("pk", filter=handled & in_term),
        "notice_whole": Count("pk", filter=notice_needed),
        "notice_part": Count("pk", filter=notice_needed & Q(extended_on__isnull=False, extended_on__lte=F("answer_due"))),
        "callback_whole": Count("pk", filter=callback_needed),
        "callback_part": Count("pk", filter=promised & called_back & Q(called_back_on__lte=F("callback_due"))),
        "callback_not_needed": Count("pk", filter=callback_not_needed),
        "handled": Count("pk", filter=handled),
        "open": Count("pk", filter=open_case),
        "overdue": Count("pk", filter=open_case & Q(effective_answer_due__lt=as_of)),
        # Outcomes as they stood on ``as_of``: a case closed after it had no outcome yet.
        "closed_by": Count("pk", filter=Q(closed=True, closed_on__isnull=False, closed_on__lte=as_of)),
    }


@dataclass
class _Tally:
    """The counts of one kind: every counter, the handling-time histogram, and the outcomes of closed cases."""

    counts: dict[str, int]
    histogram: dict[int, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


def _tally(facts, counted: dict[str, Count], kinds: tuple[str, ...]) -> dict[str, _Tally]:
    # One pass over the facts: grouped by what the histogram and the outcome table need, with
    # every share's counts alongside; the totals are sums over these few hundred groups.
    tallies = {kind: _Tally(counts=dict.fromkeys(counted, 0)) for kind in kinds}
    for row in facts.values("kind", "closed", "outcome", "handling_days").annotate(**counted).order_by():
        tally = tallies[row["kind"]]
        for name in counted:
            tally.counts[name] += row[name]
        if row["handling_days"] is not None and row["handled"]:  # handled by the day of reference
            tally.histogram[row["handling_days"]] = tally.histogram.get(row["handling_days"], 0) + row["handled"]
        if row["closed_by"]:
            tally.outcomes[row["outcome"]] = tally.outcomes.get(row["outcome"], 0) + row["closed_by"]
    return tallies


def _figures(tallies: list[_Tally], selected: tuple[str, ...], *, start, end, as_of, threshold: int) -> ComplianceFigures:
    """The figures of the selected kinds together, from their tallies."""

    def total(name: str) -> int:
        return sum(tally.counts[name] for tally in tallies)

    histogram: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    for tally in tallies:
        for days, count in tally.histogram.items():
            histogram[days] = histogram.get(days, 0) + count
        for outcome, count in tally.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return ComplianceFigures(
        start=start,
        end=end,
        as_of=as_of,
        kinds=selected,
        received=Figure(total("received"), threshold),
        acknowledgement_on_time=Share(total("ack_part"), total("ack_whole"), threshold),
        acknowledgement_not_needed=Figure(total("ack_not_needed"), threshold),
        answer_within_six_weeks=Share(total("six_part"), total("six_whole"), threshold),
        answer_within_term=Share(total("term_part"), total("term_whole"), threshold),
        interim_notice_in_time=Share(total("notice_part"), total("notice_whole"), threshold),
        callback_on_time=Share(total("callback_part"), total("callback_whole"), threshold),
        callback_not_needed=Figure(total("callback_not_needed"), threshold),
        handling=_handling_time(histogram, threshold),
        outcomes={outcome: Figure(outcomes.get(outcome, 0), threshold) for outcome in outcomes_for(selected)},
        open_cases=Figure(total("open"), threshold),
        overdue_cases=Figure(total("overdue"), threshold),
    )


def compliance_by_kind(
    *, start: datetime.date, end: datetime.date, as_of: datetime.date | None = None, kinds: Iterable[str] = (Kind.COMPLAINT, Kind.SUGGESTION)
) -> dict[str, ComplianceFigures]:
    """The compliance figures of the cases received in [start, end), as on ``as_of`` (default
    today), per kind and for all of them together (key ``"all"``), from one query."""
    as_of = as_of or timezone.localdate()
    kinds = tuple(kinds)
    threshold = small_cell_threshold()
    facts = CaseFact.objects.filter(received_on__gte=start, received_on__lt=end, kind__in=kinds)
    tallies = _tally(facts, _counters(as_of), kinds)
    period = {"start": start, "end": end, "as_of": as_of, "threshold": threshold}
    result = {kind: _figures([tallies[kind]], (kind,), **period) for kind in kinds}
    result[ALL_KINDS] = _figures([tallies[kind] for kind in kinds], kinds, **period)
    return result


def compliance_figures(
    *, start: datetime.date, end: datetime.date, as_of: datetime.date | None = None, kinds: Iterable[str] = (Kind.COMPLAINT, Kind.SUGGESTION)
) -> ComplianceFigures:
    """The compliance figures of the cases of these kinds received in [start, end), as on ``as_of`` (default today)."""
    return compliance_by_kind(start=start, end=end, as_of=as_of, kinds=kinds)[ALL_KINDS]


def outcomes_for(kinds: Iterable[str]) -> list[str]:
    """The outcomes a closed case of these kinds can have ('' is a suggestion withdrawn or closed without one)."""
    kinds = set(kinds)
    outcomes: list[str] = []
    if Kind.COMPLAINT in kinds:
        outcomes += list(ComplaintOutcome.values)
    if Kind.SUGGESTION in kinds:
        outcomes += list(SuggestionOutcome.values)
        outcomes.append("")
    return outcomes


def _handling_time(histogram: dict[int, int], threshold: int) -> HandlingTime:
    handled = sum(histogram.values())
    shown = handled >= threshold
    buckets = []
    lower = 0
    for label, upper in HANDLING_BUCKETS:
        count = sum(n for days, n in histogram.items() if days >= lower and (upper is None or days <= upper))
        buckets.append((label, Figure(count, threshold)))
        lower = (upper or 0) + 1
    return HandlingTime(
        handled=Figure(handled, threshold),
        median=percentile(histogram, 0.5) if shown else None,
        p90=percentile(histogram, 0.9) if shown else None,
        buckets=tuple(buckets),
    )


@dataclass(frozen=True)
class HeldTerms:
    """The charter's acknowledgement, answer and call-back terms that every case received in a period was held to;
    None where not every case was (the term changed during the period, or a later change of the closing
    days moved a due date): a report then names no term it cannot vouch for."""

    acknowledgement: Term | None
    answer: Term | None
    callback: Term | None

    @staticmethod
    def text(term: Term | None) -> str:
        """'4 werkdagen'; for a term not every case was held to, each case's own (what the figures measure)."""
        return term.text if term else _("de termijn die gold bij ontvangst")


def held_terms(*, start: datetime.date, end: datetime.date) -> HeldTerms:
    """Which of today's terms (``charter_terms``) the cases received in [start, end) were held to: those whose
    due dates, as registration computes them today (``case_deadlines``), are the ones it stored for every case
    (``CaseFact``). The compliance figures are measured against those stored dates, so a label that names a
    term is true only when each case's date is that term's."""
    terms = charter_terms()
    acknowledgement, answer, callback = terms.acknowledgement, terms.answer, terms.callback
    received = CaseFact.objects.filter(received_on__gte=start, received_on__lt=end)
    for received_on, acknowledgement_due, answer_due, callback_due in received.values_list(
        "received_on", "acknowledgement_due", "answer_due", "callback_due"
    ).distinct():
        due = case_deadlines(received_on=received_on, callback_requested=callback_due is not None)
        if due["acknowledgement_due"] != acknowledgement_due:
            acknowledgement = None
        if due["answer_due"] != answer_due:
            answer = None
        if due["callback_due"] != callback_due:
            callback = None
        if acknowledgement is None and answer is None and callback is None:
            break
    return HeldTerms(acknowledgement=acknowledgement, answer=answer, callback=callback)
