"""Selectors: complaints and suggestions counted per norm and period, for the charter's revision.

Everything here is a count; nothing carries a case, a name or a text. A count below
``settings.HANDVEST_SMALL_CELL`` (but above zero) is shown as ``<N`` (:class:`Figure`), a trend
is only shown between two counts that are both shown (:class:`Trend`), so no one can be
recognised from a small number. Counts come from the rollup tables that
``cases.services.rollup`` keeps current; confirmed norm tags are counted, suggested (not yet
confirmed) tags are counted apart, rejected tags not at all.

Periods are months of receipt, quarters and years, named by keys: ``2026-03``, ``2026-Q1``, ``2026``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import ExtractMonth, ExtractQuarter, ExtractYear, TruncMonth, TruncQuarter, TruncYear
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.models import CaseFact, Kind, NormMonthCount, TagStatus
from cms.models import Channel, ServiceNorm

Period = Literal["month", "quarter", "year"]
Dimension = Literal["kind", "channel", "outcome"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "year")
DIMENSIONS: tuple[Dimension, ...] = ("kind", "channel", "outcome")

BAD_PERIOD = "Unknown period {value!r}: use month, quarter or year."
BAD_PERIOD_KEY = "Unknown period key {value!r}: use e.g. 2026-03, 2026-Q1 or 2026."
BAD_DIMENSION = "Unknown dimension {value!r}: use kind, channel or outcome."
BAD_RANGE = "The end ({end}) must come after the start ({start})."

_KEY_RE = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")
_TRUNC = {"month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


def small_cell_threshold() -> int:
    """Counts from 1 up to this number minus one are shown as ``<N``."""
    return int(settings.HANDVEST_SMALL_CELL)


# --- figures -------------------------------------------------------------------------------


@dataclass(slots=True)
class Figure:
    """A count as shown to people: 1 to threshold-1 is shown as ``<threshold``; zero is shown as 0.

    Zero is shown because it says nothing about anyone, and hiding it would make every quiet
    norm look like a small one. Templates print the figure itself (``{{ figure }}``); code that
    exports numbers uses :attr:`value`.
    """

    count: int
    threshold: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.count < self.threshold

    @property
    def shown(self) -> int | None:
        """The count when it may be shown, else None."""
        return None if self.suppressed else self.count

    @property
    def value(self) -> int | str:
        """What exports carry: the count, or the string ``<N``."""
        return f"<{self.threshold}" if self.suppressed else self.count

    def __str__(self) -> str:
        return str(self.value)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.count + other.count, self.threshold)


def figure(count: int | None, threshold: int | None = None) -> Figure:
    return Figure(int(count or 0), small_cell_threshold() if threshold is None else threshold)


@dataclass(frozen=True)
class Trend:
    """The change from the previous period; unknown when either count is suppressed."""

    current: Figure
    previous: Figure

    @property
    def known(self) -> bool:
        return not (self.current.suppressed or self.previous.suppressed)

    @property
    def delta(self) -> int | None:
        return self.current.count - self.previous.count if self.known else None

    @property
    def percent(self) -> float | None:
        if not self.known or self.previous.count == 0:
            return None
        return round(100 * (self.current.count - self.previous.count) / self.previous.count, 1)

    @property
    def direction(self) -> str | None:
        """'up', 'down', 'same', or None when unknown."""
        if self.delta is None:
            return None
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "same"

    def __str__(self) -> str:
        if self.delta is None:
            return "—"
        return f"{self.delta:+d}" if self.delta else "0"


# --- periods -------------------------------------------------------------------------------


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(BAD_PERIOD.format(value=period))


def period_key(day: datetime.date, period: Period) -> str:
    """The key of the period ``day`` falls in: ``2026-03``, ``2026-Q1`` or ``2026``."""
    _check_period(period)
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_of_key(key: str) -> Period:
    match = _KEY_RE.match(key or "")
    if not match:
        raise ValueError(BAD_PERIOD_KEY.format(value=key))
    return "quarter" if match["quarter"] else "month" if match["month"] else "year"


def period_range(key: str) -> tuple[datetime.date, datetime.date]:
    """The first day of the period and the first day after it."""
    match = _KEY_RE.match(key or "")
    if not match:
        raise ValueError(BAD_PERIOD_KEY.format(value=key))
    year = int(match["year"])
    if match["month"]:
        start = datetime.date(year, int(match["month"]), 1)
        return start, _add_months(start, 1)
    if match["quarter"]:
        start = datetime.date(year, 3 * int(match["quarter"]) - 2, 1)
        return start, _add_months(start, 3)
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def previous_period_key(key: str) -> str:
    start, _end = period_range(key)
    return period_key(start - datetime.timedelta(days=1), period_of_key(key))


def period_keys(start: datetime.date, end: datetime.date, period: Period) -> list[str]:
    """The keys of the periods that overlap [start, end), oldest first."""
    _check_period(period)
    if end <= start:
        raise ValueError(BAD_RANGE.format(start=start, end=end))
    keys = []
    day = start
    while day < end:
        key = period_key(day, period)
        keys.append(key)
        day = period_range(key)[1]
    return keys


def period_label(key: str) -> str:
    """A Dutch label: 'maart 2026', '1e kwartaal 2026', '2026'."""
    start, _end = period_range(key)
    kind = period_of_key(key)
    if kind == "month":
        return date_format(start, "F Y")
    if kind == "quarter":
        return _("%(quarter)se kwartaal %(year)s") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    return str(start.year)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


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
    _check_period(period)
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise ValueError(BAD_DIMENSION.format(value=dimension))
    if end <= start:
        raise ValueError(BAD_RANGE.format(start=start, end=end))
    rows = NormMonthCount.objects.filter(month__gte=start.replace(day=1), month__lt=end)
    codes = _norm_codes()
    if norms is not None:
        wanted = set(norms)
        rows = rows.filter(norm_id__in=[pk for pk, code in codes.items() if code in wanted])
    for name, values in (("kind", kinds), ("channel", channels), ("outcome", outcomes)):
        if values is not None:
            rows = rows.filter(**{f"{name}__in": list(values)})
    # Grouped on the norm's id (no join) and on the period as integers (no timestamps to parse),
    # fetched as tuples: the five-year cube has tens of thousands of cells.
    sub_period = {"month": ExtractMonth("month"), "quarter": ExtractQuarter("month"), "year": Value(0)}[period]
    grouped = (
        rows.annotate(y=ExtractYear("month"), sub=sub_period)
        .values_list("norm_id", "y", "sub", *by)
        .annotate(
            confirmed=Sum("cases", filter=Q(tag_status=TagStatus.CONFIRMED), default=0),
            unconfirmed=Sum("cases", filter=Q(tag_status=TagStatus.SUGGESTED), default=0),
        )
        .order_by()
    )
    threshold = small_cell_threshold()
    key_format = {"month": "{}-{:02d}", "quarter": "{}-Q{}", "year": "{}"}[period]
    where = {name: by.index(name) for name in DIMENSIONS if name in by}
    keys: dict[tuple[int, int], str] = {}
    result = []
    for norm_id, year, sub, *rest in grouped:
        key = keys.get((year, sub))
        if key is None:
            key = keys[(year, sub)] = key_format.format(year, sub)
        result.append(
            NormCount(
                codes[norm_id],
                key,
                rest[where["kind"]] if "kind" in where else None,
                rest[where["channel"]] if "channel" in where else None,
                rest[where["outcome"]] if "outcome" in where else None,
                Figure(rest[-2], threshold),
                Figure(rest[-1], threshold),
            )
        )
    result.sort(key=lambda cell: (cell.norm, cell.period, cell.kind or "", cell.channel or "", cell.outcome or ""))
    return result


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
        _check_period(period)
        rows = rows.annotate(p=_TRUNC[period]("received_on"))
        names.append("p")
    threshold = small_cell_threshold()
    result = {}
    for row in rows.values(*names).annotate(n=Count("pk")).order_by():
        key = tuple(period_key(_as_date(row[name]), period) if name == "p" else row[name] for name in names)
        result[key] = Figure(row["n"], threshold)
    return result
