"""Periods of the figures: months of receipt, quarters and years, named by keys (``2026-03``, ``2026-Q1``, ``2026``)."""

from __future__ import annotations

import datetime
import re
from typing import Literal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

Period = Literal["month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "year")

BAD_PERIOD = "Unknown period {value!r}: use month, quarter or year."
BAD_PERIOD_KEY = "Unknown period key {value!r}: use e.g. 2026-03, 2026-Q1 or 2026."
BAD_RANGE = "The end ({end}) must come after the start ({start})."

_KEY_RE = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


def check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(BAD_PERIOD.format(value=period))


def period_key(day: datetime.date, period: Period) -> str:
    """The key of the period ``day`` falls in: ``2026-03``, ``2026-Q1`` or ``2026``."""
    check_period(period)
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
    check_period(period)
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


def period_short_label(key: str) -> str:
    """A chart's column label: 'mrt' for a month (Dutch abbreviations, not the name cut to three
    letters, which gives 'maa'), 'Q1' for a quarter, '2026' for a year."""
    start, _end = period_range(key)
    kind = period_of_key(key)
    if kind == "month":
        return date_format(start, "b")
    if kind == "quarter":
        return f"Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)
