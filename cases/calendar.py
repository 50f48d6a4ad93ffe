"""Dutch working days, for the deadlines of complaint handling (Awb chapter 9).

A working day is Monday to Friday, except the holidays of the Algemene termijnenwet
(Atw art. 3) and the closing days the municipality configures. Plain Python: only
:func:`default_calendar` touches Django, to read ``HANDVEST_CLOSING_DAYS``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from functools import lru_cache

import holidays
from holidays.constants import OPTIONAL, PUBLIC

ONE_DAY = datetime.timedelta(days=1)
SATURDAY = 5

BAD_CLOSING_DAY = "HANDVEST_CLOSING_DAYS contains {value!r}, which is not an ISO date (YYYY-MM-DD)."
NEGATIVE_TERM = "A term cannot be negative: got {value}."
DATETIME_NOT_DATE = "Pass a date, not a datetime: deadlines fall on calendar days (use timezone.localdate())."


class WorkingCalendar:
    """Dutch working days: Monday to Friday minus Atw art. 3 holidays and configured closing days.

    Closing days stand for the days a royal decree adds under Atw art. 3(3) (such as the
    Friday after Ascension Day in some years) and the days the municipality is closed.
    """

    def __init__(self, closing_days: Iterable[datetime.date] = ()) -> None:
        self._closing_days = frozenset(closing_days)
        for day in self._closing_days:
            _require_date(day)
        self._holidays_by_year: dict[int, dict[datetime.date, str]] = {}

    @property
    def closing_days(self) -> frozenset[datetime.date]:
        """The configured closing days."""
        return self._closing_days

    def _holidays(self, year: int) -> dict[datetime.date, str]:
        found = self._holidays_by_year.get(year)
        if found is None:
            # Why we wrap the library rather than use holidays.NL() as is: by default it lists
            # Bevrijdingsdag (5 May) only every fifth year, as many CAOs do, while Atw art. 3
            # makes it a holiday every year; the OPTIONAL category adds it for every year.
            # Closing days are our own data, which the library cannot know. `observed` must
            # stay on: it is what moves Koningsdag from a Sunday 27 April to Saturday 26 April.
            # A plain dict per year, filled once, is also safe to share between threads.
            library = holidays.country_holidays("NL", years=year, categories=(PUBLIC, OPTIONAL), language="nl")
            found = dict(library)
            self._holidays_by_year[year] = found
        return found

    def holidays_in(self, year: int) -> list[tuple[datetime.date, str]]:
        """The Atw art. 3 holidays of ``year``, sorted, with their Dutch names.

        Includes Eerste paasdag and Eerste pinksterdag, which are Sundays anyway;
        excludes the configured closing days (see :attr:`closing_days`).
        """
        return sorted(self._holidays(year).items())

    def is_working_day(self, day: datetime.date) -> bool:
        """Whether ``day`` is Monday to Friday, no Atw art. 3 holiday and no closing day."""
        _require_date(day)
        return day.weekday() < SATURDAY and day not in self._closing_days and day not in self._holidays(day.year)

    def next_working_day(self, day: datetime.date) -> datetime.date:
        """``day`` itself if it is a working day, otherwise the first working day after it."""
        _require_date(day)
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def roll_forward(self, day: datetime.date) -> datetime.date:
        """The end of a term that falls on ``day``, moved as Atw art. 1 requires.

        A term that ends on a Saturday, Sunday or Atw art. 3 holiday (or a closing day)
        is extended to the next working day.
        """
        return self.next_working_day(day)

    def add_working_days(self, day: datetime.date, count: int) -> datetime.date:
        """The ``count``-th working day after ``day``; counting starts the day after.

        With ``count == 0``, ``day`` rolled forward to a working day. Used for the charter's
        norms in working days, such as sending the *ontvangstbevestiging* (Awb art. 9:6)
        within 4 working days of receipt.
        """
        _require_date(day)
        if count < 0:
            raise ValueError(NEGATIVE_TERM.format(value=count))
        if count == 0:
            return self.next_working_day(day)
        while count:
            day += ONE_DAY
            if self.is_working_day(day):
                count -= 1
        return day

    def add_weeks(self, day: datetime.date, weeks: int) -> datetime.date:
        """``day`` plus ``weeks`` weeks, rolled forward (Atw art. 1).

        The answer term of Awb art. 9:11(1) is 6 weeks after receipt; art. 9:11(2)
        allows one extension by at most 4 weeks.
        """
        _require_date(day)
        if weeks < 0:
            raise ValueError(NEGATIVE_TERM.format(value=weeks))
        return self.roll_forward(day + datetime.timedelta(weeks=weeks))

    def add_term(self, day: datetime.date, amount: int, unit: str) -> datetime.date:
        """The end of a term of ``amount`` ``unit`` ("working_days", "weeks" or "days") starting on ``day``:
        working days after the day, or weeks and days rolled forward past a weekend or holiday (Atw art. 1)."""
        if unit == "working_days":
            return self.add_working_days(day, amount)
        if unit == "weeks":
            return self.add_weeks(day, amount)
        if unit == "days":
            _require_date(day)
            return self.roll_forward(day + datetime.timedelta(days=amount))
        raise ValueError(f"No term in {unit!r}: use working_days, weeks or days.")

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """The number of working days in (start, end]; negative when ``end`` lies before ``start``.

        Counted by arithmetic (whole weeks, then the days left over, minus the holidays and
        closing days on a weekday), not by walking the calendar: a list of old overdue cases
        asks this for every row.
        """
        _require_date(start)
        _require_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        weeks, rest = divmod((end - start).days, 7)
        count = 5 * weeks + sum((start + datetime.timedelta(days=offset)).weekday() < SATURDAY for offset in range(1, rest + 1))
        days_off = {day for year in range(start.year, end.year + 1) for day in self._holidays(year)} | self._closing_days
        return count - sum(start < day <= end and day.weekday() < SATURDAY for day in days_off)


def _require_date(day: datetime.date) -> None:
    # A datetime is a date subclass, but never equal to one: it would slip past the
    # holiday and closing-day lookups and count as a working day.
    if isinstance(day, datetime.datetime):
        raise TypeError(DATETIME_NOT_DATE)


def _parse_closing_day(value: str | datetime.date) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(BAD_CLOSING_DAY.format(value=value)) from None


@lru_cache(maxsize=8)
def _calendar_for(closing_days: tuple[str | datetime.date, ...]) -> WorkingCalendar:
    return WorkingCalendar(_parse_closing_day(value) for value in closing_days)


def default_calendar() -> WorkingCalendar:
    """The calendar with the closing days of ``settings.HANDVEST_CLOSING_DAYS``.

    Cached per value of the setting; a value that is not an ISO date raises ValueError.
    """
    # Imported here, not at the top: the rest of this module is plain Python that runs (and is
    # tested) without Django settings.
    from django.conf import settings

    configured: str | Sequence[str | datetime.date] = settings.HANDVEST_CLOSING_DAYS
    if isinstance(configured, str):
        configured = [part for part in configured.split(",") if part.strip()]
    return _calendar_for(tuple(configured))
