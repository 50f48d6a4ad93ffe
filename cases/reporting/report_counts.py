"""The counts of the annual report that add up to one another, fetched once and protected together.

A count under the threshold shows as "<3"; but where its whole and all its other parts are shown, it
is the whole minus the rest. The report shows the cases received per kind beside the same cases per
quarter and per channel, and the cases handled beside their handling time in buckets and beside all
cases handled, and the summary's received beside handled, open and withdrawn: every such
(whole, parts) goes through ``figures.protect_groups`` before a cell is written, so no small count can
be worked out by subtraction anywhere in the report (CSV, JSON or PDF).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cases.models import ComplaintOutcome, IntakeChannel, Kind
from cases.reporting import aggregates, compliance, figures, periods
from cases.reporting.compliance import ComplianceFigures
from cases.reporting.figures import Figure

KINDS = (Kind.COMPLAINT.value, Kind.SUGGESTION.value)
# Outcomes of a case closed without an answer: a complaint withdrawn, a suggestion withdrawn or closed without one.
WITHDRAWN = (ComplaintOutcome.WITHDRAWN.value, "")


@dataclass(frozen=True)
class ReportCounts:
    quarters: dict[str, dict[str, Figure]]  # quarter key -> kind -> count received
    channels: dict[str, dict[str, Figure]]  # channel -> kind -> count received


def report_counts(year: int, by_kind: dict[str, ComplianceFigures]) -> ReportCounts:
    """The per-quarter and per-channel counts of ``year``, protected together with ``by_kind``'s
    received and handled figures (whose ``hidden`` this sets where a small count would show through)."""
    start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    threshold = figures.small_cell_threshold()
    per_quarter = aggregates.case_counts(start=start, end=end, by=("kind",), period="quarter")
    per_channel = aggregates.case_counts(start=start, end=end, by=("kind", "channel"))
    quarters = {key: {kind: per_quarter.get((kind, key), Figure(0, threshold)) for kind in KINDS} for key in periods.period_keys(start, end, "quarter")}
    channels = {channel.value: {kind: per_channel.get((kind, channel.value), Figure(0, threshold)) for kind in KINDS} for channel in IntakeChannel}
    groups = []
    for kind in KINDS:
        received, handling = by_kind[kind].received, by_kind[kind].handling
        groups.append((received, [cells[kind] for cells in quarters.values()]))
        groups.append((received, [cells[kind] for cells in channels.values()]))
        groups.append((handling.handled, [count for _label, count in handling.buckets]))
        # The summary: received against handled, still open and withdrawn (the outcomes table shows those),
        # where they add up exactly (a reopened case is handled and open at once; then they do not).
        parts = [handling.handled, by_kind[kind].open_cases, *(by_kind[kind].outcomes[key] for key in WITHDRAWN if key in by_kind[kind].outcomes)]
        if sum(part.count for part in parts) == received.count:
            groups.append((received, parts))
    # The handling-time table has a row of all cases beside the two kinds.
    groups.append((by_kind[compliance.ALL_KINDS].handling.handled, [by_kind[kind].handling.handled for kind in KINDS]))
    figures.protect_groups(groups)
    return ReportCounts(quarters=quarters, channels=channels)
