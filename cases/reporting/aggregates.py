"""Selectors: complaints and suggestions counted per norm and period, for the charter's revision.

Everything here is a count; nothing carries a case, a name or a text, and small counts are
suppressed (``cases.reporting.figures``). Counts come from the rollup tables that
``cases.reporting.rollup`` keeps current; confirmed norm tags are counted, suggested (not yet
confirmed) tags are counted apart, rejected tags not at all.

Periods are months of receipt, quarters and years (``cases.reporting.periods``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import ExtractMonth, ExtractQuarter, ExtractYear, TruncMonth, TruncQuarter, TruncYear

from cases.models import CaseFact, Kind, NormMonthCount, TagStatus
from cases.reporting.figures import Figure, Trend, protect_groups, small_cell_threshold
from cases.reporting.periods import BAD_RANGE, Period, check_period, period_key, period_keys, period_label, period_range, previous_period_key
from cms.models import Channel, ServiceNorm

Dimension = Literal["kind", "channel", "outcome"]
DIMENSIONS: tuple[Dimension, ...] = ("kind", "channel", "outcome")

BAD_DIMENSION = "Unknown dimension {value!r}: use kind, channel or outcome."

_TRUNC = {"month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


# --- the cube: norm × period × kind × channel × outcome --------------------------------------


@dataclass(slots=True)
class NormCount:
    """One cell: a norm in a period (and, when asked, a kind, channel and outcome)."""

    norm: str
    period: str
    kind: str | None
    channel: str | None
    outcome: str | None
    confirmed: Figure
    unconfirmed: Figure


def _filtered_rows(start, end, codes: dict[int, str], norms, kinds, channels, outcomes):
    rows = NormMonthCount.objects.filter(month__gte=start.replace(day=1), month__lt=end)
    if norms is not None:
        wanted = set(norms)
        rows = rows.filter(norm_id__in=[pk for pk, code in codes.items() if code in wanted])
    for name, values in (("kind", kinds), ("channel", channels), ("outcome", outcomes)):
        if values is not None:
            rows = rows.filter(**{f"{name}__in": list(values)})
    return rows


def _grouped(rows, period: Period, by: Sequence[Dimension]):
    # Grouped on the norm's id (no join) and on the period as integers (no timestamps to parse),
    # fetched as tuples: the five-year cube has tens of thousands of cells.
    sub_period = {"month": ExtractMonth("month"), "quarter": ExtractQuarter("month"), "year": Value(0)}[period]
    return (
        rows.annotate(y=ExtractYear("month"), sub=sub_period)
        .values_list("norm_id", "y", "sub", *by)
        .annotate(
            confirmed=Sum("cases", filter=Q(tag_status=TagStatus.CONFIRMED), default=0),
            unconfirmed=Sum("cases", filter=Q(tag_status=TagStatus.SUGGESTED), default=0),
        )
        .order_by()
    )


def _cells(grouped, codes: dict[int, str], period: Period, by: Sequence[Dimension]) -> list[NormCount]:
    threshold = small_cell_threshold()
    key_format = {"month": "{}-{:02d}", "quarter": "{}-Q{}", "year": "{}"}[period]
    where = {name: by.index(name) for name in DIMENSIONS if name in by}
    keys: dict[tuple[int, int], str] = {}
    result = []
    for norm_id, year, sub, *rest in grouped:
        key = keys.get((year, sub))
        if key is None:
            key = keys[(year, sub)] = key_format.format(year, sub)
        dimensions = [rest[where[name]] if name in where else None for name in DIMENSIONS]
        result.append(NormCount(codes[norm_id], key, *dimensions, Figure(rest[-2], threshold), Figure(rest[-1], threshold)))
    result.sort(key=lambda cell: (cell.norm, cell.period, cell.kind or "", cell.channel or "", cell.outcome or ""))
    return result


def norm_counts(
    *,
    start: datetime.date,
    end: datetime.date,
    period: Period = "month",
    by: Sequence[Dimension] = (),
    norms: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    outcomes: Iterable[str] | None = None,
) -> list[NormCount]:
    """Cases per norm and period of receipt in [start, end), split by the dimensions in ``by``.

    Cells without any tag are left out. ``confirmed`` counts confirmed tags, ``unconfirmed``
    the tagger's suggestions that no officer has decided yet.
    """
    check_period(period)
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise ValueError(BAD_DIMENSION.format(value=dimension))
    if end <= start:
        raise ValueError(BAD_RANGE.format(start=start, end=end))
    codes = _norm_codes()
    rows = _filtered_rows(start, end, codes, norms, kinds, channels, outcomes)
    return _cells(_grouped(rows, period, by), codes, period, by)


def _norm_codes() -> dict[int, str]:
    return dict(ServiceNorm.objects.values_list("pk", "code"))


def _as_date(value) -> datetime.date:
    # SQLite hands truncated dates back as strings, PostgreSQL as dates.
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


# --- per norm: what editors see ----------------------------------------------------------------


@dataclass
class NormPeriodFigures:
    """A norm's complaints and suggestions in one period, and the trend of its complaints."""

    period: str
    label: str
    complaints: Figure
    suggestions: Figure
    unconfirmed: Figure
    previous_complaints: Figure
    previous_suggestions: Figure

    @property
    def complaint_trend(self) -> Trend:
        return Trend(self.complaints, self.previous_complaints)

    @property
    def suggestion_trend(self) -> Trend:
        return Trend(self.suggestions, self.previous_suggestions)


@dataclass
class NormOverview:
    """A norm with its figures in one period, for the revision dashboard and the report."""

    code: str
    promise: str
    channel: str
    channel_label: str
    active: bool
    pk: int
    figures: NormPeriodFigures


def _totals_by_norm_and_kind(start: datetime.date, end: datetime.date, codes: Iterable[str] | None = None) -> dict[tuple[str, str, str], int]:
    rows = NormMonthCount.objects.filter(month__gte=start, month__lt=end)
    names = _norm_codes()
    if codes is not None:
        wanted = set(codes)
        rows = rows.filter(norm_id__in=[pk for pk, code in names.items() if code in wanted])
    totals: dict[tuple[str, str, str], int] = {}
    for norm_id, kind, status, count in rows.values_list("norm_id", "kind", "tag_status").annotate(n=Sum("cases")).order_by():
        totals[(names[norm_id], kind, status)] = count
    return totals


def _period_figures(key: str, totals: dict, previous: dict, code: str, threshold: int) -> NormPeriodFigures:
    def get(source, kind, status=TagStatus.CONFIRMED):
        return Figure(source.get((code, kind, status), 0), threshold)

    unconfirmed = get(totals, Kind.COMPLAINT, TagStatus.SUGGESTED) + get(totals, Kind.SUGGESTION, TagStatus.SUGGESTED)
    return NormPeriodFigures(
        period=key,
        label=period_label(key),
        complaints=get(totals, Kind.COMPLAINT),
        suggestions=get(totals, Kind.SUGGESTION),
        unconfirmed=unconfirmed,
        previous_complaints=get(previous, Kind.COMPLAINT),
        previous_suggestions=get(previous, Kind.SUGGESTION),
    )


MEASURES = ("complaints", "suggestions", "unconfirmed")


def protect_series(*series: list[NormPeriodFigures]) -> None:
    """Series shown on one page (a norm's months, quarters and years): no small count may be worked out
    from a coarser period's total minus the finer ones shown (``figures.protect_groups``), nor from a trend."""
    rows = [row for rows in series for row in rows]
    spans = {row.period: period_range(row.period) for row in rows}
    groups = []
    for whole in rows:
        start, end = spans[whole.period]
        for finer in series:
            parts = [row for row in finer if row is not whole and start <= spans[row.period][0] and spans[row.period][1] <= end]
            covered = sum((spans[row.period][1] - spans[row.period][0]).days for row in parts)
            # A period still running has nothing after today: it is whole once its parts reach the page's end.
            until = min(end, max(spans[row.period][1] for row in finer)) if finer else end
            if len(parts) > 1 and covered == (until - start).days:  # the whole, split into parts all on the page
                groups += [(getattr(whole, name), [getattr(row, name) for row in parts]) for name in MEASURES]
    protect_groups(groups)
    for rows in series:
        # A trend is the difference with the period before: hidden there, it is unknown here.
        for before, row in zip(rows, rows[1:], strict=False):
            row.previous_complaints.hidden = before.complaints.hidden
            row.previous_suggestions.hidden = before.suggestions.hidden


def norm_overview(*, period: str, include_retired: bool = False) -> list[NormOverview]:
    """Every norm (active ones, and any other that has figures) with its counts in the period
    ``period`` (a key) and the previous one, in the charter's order."""
    start, end = period_range(period)
    previous_key = previous_period_key(period)
    previous_start, previous_end = period_range(previous_key)
    totals = _totals_by_norm_and_kind(start, end)
    previous = _totals_by_norm_and_kind(previous_start, previous_end)
    with_figures = {code for code, _kind, _status in totals} | {code for code, _kind, _status in previous}
    threshold = small_cell_threshold()
    norms = ServiceNorm.objects.all() if include_retired else ServiceNorm.objects.filter(Q(active=True) | Q(code__in=with_figures))
    channel_order = {value: index for index, value in enumerate(Channel.values)}
    sort_order = {norm.code: norm.sort_order for norm in norms}
    result = [
        NormOverview(
            code=norm.code,
            promise=norm.promise,
            channel=norm.channel,
            channel_label=Channel(norm.channel).label if norm.channel in Channel.values else norm.channel,
            active=norm.active,
            pk=norm.pk,
            figures=_period_figures(period, totals, previous, norm.code, threshold),
        )
        for norm in norms
    ]
    result.sort(key=lambda row: (channel_order.get(row.channel, 99), sort_order[row.code], row.code))
    return result


def norm_series(*, code: str, period: Period, start: datetime.date, end: datetime.date) -> list[NormPeriodFigures]:
    """One norm's figures for every period overlapping [start, end), oldest first, empty ones included."""
    keys = period_keys(start, end, period)
    first_start = period_range(previous_period_key(keys[0]))[0]
    last_end = period_range(keys[-1])[1]
    rows = (
        NormMonthCount.objects.filter(norm__code=code, month__gte=first_start, month__lt=last_end)
        .annotate(p=_TRUNC[period]("month"))
        .values("p", "kind", "tag_status")
        .annotate(n=Sum("cases"))
        .order_by()
    )
    by_period: dict[str, dict] = {}
    for row in rows:
        key = period_key(_as_date(row["p"]), period)
        by_period.setdefault(key, {})[(code, row["kind"], row["tag_status"])] = row["n"]
    threshold = small_cell_threshold()
    return [_period_figures(key, by_period.get(key, {}), by_period.get(previous_period_key(key), {}), code, threshold) for key in keys]


@dataclass(frozen=True)
class TopNorm:
    code: str
    promise: str
    count: Figure


def top_norms(*, period: str, kind: str = Kind.COMPLAINT, limit: int = 5) -> list[TopNorm]:
    """The norms with the most confirmed cases of ``kind`` in the period (a key); ties by code."""
    start, end = period_range(period)
    rows = (
        NormMonthCount.objects.filter(month__gte=start, month__lt=end, kind=kind, tag_status=TagStatus.CONFIRMED)
        .values("norm__code", "norm__promise")
        .annotate(n=Sum("cases"))
        .filter(n__gt=0)
        .order_by("-n", "norm__code")[:limit]
    )
    threshold = small_cell_threshold()
    return [TopNorm(code=row["norm__code"], promise=row["norm__promise"], count=Figure(row["n"], threshold)) for row in rows]


# --- whole cases (not per norm) -------------------------------------------------------------------


def case_counts(*, start: datetime.date, end: datetime.date, by: Sequence[str] = ("kind",), period: Period | None = None) -> dict[tuple, Figure]:
    """Cases received in [start, end), counted per the fields in ``by`` (kind, channel, outcome,
    closed) and, when given, per period; keys are tuples in that order (period last)."""
    allowed = {"kind", "channel", "outcome", "closed"}
    for name in by:
        if name not in allowed:
            raise ValueError(BAD_DIMENSION.format(value=name))
    rows = CaseFact.objects.filter(received_on__gte=start, received_on__lt=end)
    names = list(by)
    if period is not None:
        check_period(period)
        rows = rows.annotate(p=_TRUNC[period]("received_on"))
        names.append("p")
    threshold = small_cell_threshold()
    result = {}
    for row in rows.values(*names).annotate(n=Count("pk")).order_by():
        key = tuple(period_key(_as_date(row[name]), period) if name == "p" else row[name] for name in names)
        result[key] = Figure(row["n"], threshold)
    return result
