"""The Dutch working-day calendar (Algemene termijnenwet art. 1 and 3). No database needed."""

import datetime
import re

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.calendar import BAD_CLOSING_DAY, DATETIME_NOT_DATE, NEGATIVE_TERM, WorkingCalendar, default_calendar

date = datetime.date
CALENDAR = WorkingCalendar()

# --- Strategies ------------------------------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
counts = st.integers(min_value=0, max_value=60)
weeks = st.integers(min_value=0, max_value=12)


@st.composite
def calendars_and_days(draw):
    """A day and a calendar whose closing days lie near it, so they matter."""
    day = draw(days)
    offsets = draw(st.lists(st.integers(min_value=-10, max_value=90), max_size=8))
    return WorkingCalendar(day + datetime.timedelta(days=offset) for offset in offsets), day


# --- Properties ------------------------------------------------------------------------


@given(calendars_and_days(), counts)
def test_add_working_days_lands_on_a_working_day(calendar_and_day, count):
    calendar, day = calendar_and_day
    assert calendar.is_working_day(calendar.add_working_days(day, count))


@given(calendars_and_days(), weeks)
def test_add_weeks_lands_on_a_working_day(calendar_and_day, count):
    calendar, day = calendar_and_day
    result = calendar.add_weeks(day, count)
    assert calendar.is_working_day(result)
    assert result >= day + datetime.timedelta(weeks=count)


@given(calendars_and_days())
def test_roll_forward_and_next_working_day_land_on_a_working_day(calendar_and_day):
    calendar, day = calendar_and_day
    assert calendar.is_working_day(calendar.roll_forward(day))
    assert calendar.is_working_day(calendar.next_working_day(day))


@given(calendars_and_days())
def test_next_working_day_keeps_a_working_day_and_moves_any_other(calendar_and_day):
    calendar, day = calendar_and_day
    result = calendar.next_working_day(day)
    assert (result == day) == calendar.is_working_day(day)
    assert result >= day


@given(calendars_and_days())
def test_roll_forward_is_idempotent(calendar_and_day):
    calendar, day = calendar_and_day
    once = calendar.roll_forward(day)
    assert calendar.roll_forward(once) == once


@given(calendars_and_days(), counts, counts)
def test_add_working_days_is_monotone_in_the_count(calendar_and_day, first, second):
    calendar, day = calendar_and_day
    low, high = sorted((first, second))
    assert calendar.add_working_days(day, low) <= calendar.add_working_days(day, high)


@given(calendars_and_days(), counts)
def test_one_more_working_day_is_strictly_later(calendar_and_day, count):
    calendar, day = calendar_and_day
    assert calendar.add_working_days(day, count + 2) > calendar.add_working_days(day, count + 1)


@given(calendars_and_days())
def test_one_working_day_is_later_than_zero_only_from_a_working_day(calendar_and_day):
    # add_working_days(d, 0) rolls a non-working d forward to the first working day after it,
    # which is also add_working_days(d, 1): the one place where n -> n + 1 does not move.
    calendar, day = calendar_and_day
    zero, one = calendar.add_working_days(day, 0), calendar.add_working_days(day, 1)
    if calendar.is_working_day(day):
        assert one > zero == day
    else:
        assert one == zero


@given(calendars_and_days(), st.integers(min_value=0, max_value=30), counts)
def test_add_working_days_is_monotone_in_the_start_day(calendar_and_day, gap, count):
    calendar, day = calendar_and_day
    later = day + datetime.timedelta(days=gap)
    assert calendar.add_working_days(day, count) <= calendar.add_working_days(later, count)


@given(calendars_and_days(), st.integers(min_value=1, max_value=60))
def test_working_days_between_counts_back_what_was_added(calendar_and_day, count):
    calendar, day = calendar_and_day
    assert calendar.working_days_between(day, calendar.add_working_days(day, count)) == count


@given(calendars_and_days(), st.integers(min_value=-40, max_value=40), st.integers(min_value=-40, max_value=40))
def test_working_days_between_adds_up_and_changes_sign_when_reversed(calendar_and_day, first, second):
    calendar, start = calendar_and_day
    middle = start + datetime.timedelta(days=first)
    end = middle + datetime.timedelta(days=second)
    assert calendar.working_days_between(start, end) == calendar.working_days_between(start, middle) + calendar.working_days_between(middle, end)
    assert calendar.working_days_between(end, start) == -calendar.working_days_between(start, end)


@given(calendars_and_days(), st.integers(min_value=-800, max_value=800))
def test_working_days_between_equals_counting_day_by_day(calendar_and_day, span):
    # The count is done by arithmetic; walking the days one by one must give the same number.
    calendar, start = calendar_and_day
    end = start + datetime.timedelta(days=span)
    low, high = min(start, end), max(start, end)
    walked = sum(calendar.is_working_day(low + datetime.timedelta(days=offset)) for offset in range(1, (high - low).days + 1))
    assert calendar.working_days_between(start, end) == (walked if end >= start else -walked)


@given(calendars_and_days(), counts)
def test_a_closing_day_is_never_a_working_day(calendar_and_day, count):
    calendar, day = calendar_and_day
    for closing_day in calendar.closing_days:
        assert not calendar.is_working_day(closing_day)
    assert calendar.add_working_days(day, count) not in calendar.closing_days


@given(days)
def test_weekends_are_never_working_days(day):
    if day.weekday() >= 5:
        assert not CALENDAR.is_working_day(day)


# --- The Atw art. 3 holidays, checked against the library ------------------------------

# Easter Sunday by hand (Gregorian computus); the movable feasts follow from it:
# Good Friday -2, Easter Monday +1, Ascension +39, Whit Sunday +49, Whit Monday +50.
EASTER = {
    2024: date(2024, 3, 31),
    2025: date(2025, 4, 20),
    2026: date(2026, 4, 5),
    2027: date(2027, 3, 28),
    2028: date(2028, 4, 16),
    2029: date(2029, 4, 1),
    2030: date(2030, 4, 21),
}
# 27 April, or 26 April when 27 April is a Sunday: only 2025 (27 April 2025 is a Sunday).
KINGS_DAY = {
    2024: date(2024, 4, 27),
    2025: date(2025, 4, 26),
    2026: date(2026, 4, 27),
    2027: date(2027, 4, 27),
    2028: date(2028, 4, 27),
    2029: date(2029, 4, 27),
    2030: date(2030, 4, 27),
}


def atw_holidays(year):
    easter = EASTER[year]
    offset = datetime.timedelta
    return sorted(
        [
            (date(year, 1, 1), "Nieuwjaarsdag"),
            (easter - offset(days=2), "Goede vrijdag"),
            (easter, "Eerste paasdag"),
            (easter + offset(days=1), "Tweede paasdag"),
            (KINGS_DAY[year], "Koningsdag"),
            (date(year, 5, 5), "Bevrijdingsdag"),
            (easter + offset(days=39), "Hemelvaartsdag"),
            (easter + offset(days=49), "Eerste pinksterdag"),
            (easter + offset(days=50), "Tweede pinksterdag"),
            (date(year, 12, 25), "Eerste kerstdag"),
            (date(year, 12, 26), "Tweede kerstdag"),
        ]
    )


@pytest.mark.parametrize("year", sorted(EASTER))
def test_holidays_in_lists_exactly_the_atw_holidays(year):
    assert CALENDAR.holidays_in(year) == atw_holidays(year)


@pytest.mark.parametrize("year", sorted(EASTER))
def test_no_atw_holiday_is_a_working_day(year):
    for day, _name in atw_holidays(year):
        assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize("year", sorted(EASTER))
def test_the_wrapper_adds_only_liberation_day_to_the_library_default(year):
    library = holidays.NL(years=year)
    ours = {day for day, _name in CALENDAR.holidays_in(year)}
    assert set(library) <= ours
    assert ours - set(library) <= {date(year, 5, 5)}


# --- Fixed cases, computed by hand -----------------------------------------------------


def test_four_working_days_after_maundy_thursday_skip_good_friday_and_easter_monday():
    # Thu 2 Apr 2026 -> Fri 3 (Goede vrijdag), Sat 4, Sun 5, Mon 6 (Tweede paasdag) skipped;
    # Tue 7 (1), Wed 8 (2), Thu 9 (3), Fri 10 (4).
    assert CALENDAR.add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)
    assert CALENDAR.add_working_days(date(2026, 4, 2), 4) == date(2026, 4, 10)


def test_good_friday_and_easter_monday_2026_are_no_working_days():
    assert not CALENDAR.is_working_day(date(2026, 4, 3))
    assert not CALENDAR.is_working_day(date(2026, 4, 6))
    assert CALENDAR.is_working_day(date(2026, 4, 7))


def test_kings_day_moves_to_saturday_when_27_april_is_a_sunday():
    # 27 Apr 2025 is a Sunday, so Koningsdag is Sat 26 Apr 2025; Mon 28 Apr is a normal working day.
    assert (date(2025, 4, 26), "Koningsdag") in CALENDAR.holidays_in(2025)
    assert date(2025, 4, 27) not in dict(CALENDAR.holidays_in(2025))
    assert CALENDAR.is_working_day(date(2025, 4, 28))
    # Fri 25 Apr 2025 + 1 working day: Sat 26, Sun 27 skipped -> Mon 28.
    assert CALENDAR.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 28)


def test_kings_day_on_a_monday_rolls_a_term_to_tuesday():
    # Koningsdag Mon 27 Apr 2026: a term ending Sun 26 Apr moves past it to Tue 28 Apr.
    assert CALENDAR.roll_forward(date(2026, 4, 26)) == date(2026, 4, 28)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 5 May 2026 is a Tuesday: Mon 4 May + 1 working day -> Wed 6 May.
        (date(2026, 5, 4), date(2026, 5, 6)),
        # 5 May 2027 is a Wednesday and Ascension is Thu 6 May: Tue 4 May + 1 -> Fri 7 May.
        (date(2027, 5, 4), date(2027, 5, 7)),
    ],
)
def test_liberation_day_is_a_holiday_outside_lustrum_years(start, expected):
    assert not CALENDAR.is_working_day(date(start.year, 5, 5))
    assert CALENDAR.add_working_days(start, 1) == expected


def test_ascension_day_without_a_closing_day_on_the_friday_after():
    # Wed 13 May 2026; Thu 14 May is Hemelvaartsdag -> Fri 15 (1), Mon 18 (2).
    assert CALENDAR.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 15)
    assert CALENDAR.add_working_days(date(2026, 5, 13), 2) == date(2026, 5, 18)


def test_ascension_day_with_the_friday_after_configured_as_a_closing_day():
    # Thu 14 May (Hemelvaartsdag) and Fri 15 May (closed) skipped -> Mon 18 (1), Tue 19 (2).
    calendar = WorkingCalendar(closing_days=[date(2026, 5, 15)])
    assert calendar.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 18)
    assert calendar.add_working_days(date(2026, 5, 13), 2) == date(2026, 5, 19)


def test_answer_term_ending_on_ascension_day_moves_to_the_next_working_day():
    # Received Thu 2 Apr 2026 + 6 weeks = Thu 14 May (Hemelvaartsdag) -> Fri 15 May,
    # or Mon 18 May when Fri 15 May is a closing day.
    assert CALENDAR.add_weeks(date(2026, 4, 2), 6) == date(2026, 5, 15)
    assert WorkingCalendar([date(2026, 5, 15)]).add_weeks(date(2026, 4, 2), 6) == date(2026, 5, 18)


def test_answer_term_ending_on_whit_monday_moves_to_tuesday():
    # Received Mon 13 Apr 2026 + 6 weeks = Mon 25 May (Tweede pinksterdag) -> Tue 26 May.
    assert CALENDAR.add_weeks(date(2026, 4, 13), 6) == date(2026, 5, 26)
    # A term ending Sat 23 May: Sat, Sun 24 (Eerste pinksterdag), Mon 25 skipped -> Tue 26.
    assert CALENDAR.roll_forward(date(2026, 5, 23)) == date(2026, 5, 26)


def test_acknowledgement_over_christmas_and_new_year():
    # Received Tue 24 Dec 2024; Wed 25 and Thu 26 are the Christmas days ->
    # Fri 27 (1), Mon 30 (2), Tue 31 (3), Wed 1 Jan (Nieuwjaarsdag) skipped, Thu 2 Jan 2025 (4).
    assert CALENDAR.add_working_days(date(2024, 12, 24), 4) == date(2025, 1, 2)


def test_christmas_2026_on_friday_and_saturday():
    # Thu 24 Dec 2026 + 1: Fri 25 (Eerste kerstdag), Sat 26, Sun 27 skipped -> Mon 28.
    assert CALENDAR.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    # Thu 31 Dec 2026 + 1: Fri 1 Jan 2027 (Nieuwjaarsdag), Sat 2, Sun 3 skipped -> Mon 4 Jan.
    assert CALENDAR.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    # (Thu 24 Dec 2026, Mon 4 Jan 2027]: Mon 28, Tue 29, Wed 30, Thu 31 Dec, Mon 4 Jan = 5.
    assert CALENDAR.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 5


def test_zero_working_days_is_the_day_itself_or_the_next_working_day():
    assert CALENDAR.add_working_days(date(2026, 4, 2), 0) == date(2026, 4, 2)
    # Fri 3 Apr 2026 (Goede vrijdag) -> Tue 7 Apr.
    assert CALENDAR.add_working_days(date(2026, 4, 3), 0) == date(2026, 4, 7)


def test_a_negative_term_is_refused():
    with pytest.raises(ValueError, match=re.escape(NEGATIVE_TERM.format(value=-1))):
        CALENDAR.add_working_days(date(2026, 4, 2), -1)
    with pytest.raises(ValueError, match=re.escape(NEGATIVE_TERM.format(value=-2))):
        CALENDAR.add_weeks(date(2026, 4, 2), -2)


def test_a_datetime_is_refused_because_it_would_miss_every_holiday():
    with pytest.raises(TypeError, match=re.escape(DATETIME_NOT_DATE)):
        CALENDAR.is_working_day(datetime.datetime(2026, 4, 3, 9, 0))
    with pytest.raises(TypeError, match=re.escape(DATETIME_NOT_DATE)):
        WorkingCalendar([datetime.datetime(2026, 5, 15)])


# --- default_calendar() ----------------------------------------------------------------


def test_default_calendar_reads_the_closing_days_from_settings(settings):
    settings.HANDVEST_CLOSING_DAYS = ["2026-05-15"]
    assert not default_calendar().is_working_day(date(2026, 5, 15))
    settings.HANDVEST_CLOSING_DAYS = []
    assert default_calendar().is_working_day(date(2026, 5, 15))


def test_default_calendar_is_cached_per_settings_value(settings):
    settings.HANDVEST_CLOSING_DAYS = ["2026-05-15"]
    first = default_calendar()
    assert default_calendar() is first
    settings.HANDVEST_CLOSING_DAYS = ["2026-05-15", "2026-12-31"]
    assert default_calendar() is not first


def test_default_calendar_names_a_closing_day_that_is_no_iso_date(settings):
    settings.HANDVEST_CLOSING_DAYS = ["2026-05-15", "15-05-2026"]
    with pytest.raises(ValueError, match=re.escape(BAD_CLOSING_DAY.format(value="15-05-2026"))):
        default_calendar()
