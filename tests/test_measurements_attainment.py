"""Attainment per norm and period: the boundaries of each kind of target, the norms measured from
the cases on the working-day calendar, and targets versioned with the norm's revisions."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from wagtail.models import ModelLogEntry

from cases.measurements.attainment import latest_attainment, norm_attainment
from cases.measurements.importing import measurements_import
from cases.reporting.rollup import rollup_refresh
from cms.models import ServiceNorm
from tests.test_aggregates_data import D, at, build_case, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def load(lines: list[str]) -> None:
    measurements_import(stream=io.BytesIO("\n".join(lines).encode()), file_name="t.csv", source="other")


def calls(month: str, within: int, late: int, *, code: str = "TEL-25SEC", fast: str = "25", slow: str = "25.001") -> list[str]:
    """``within`` observations of ``fast`` and ``late`` of ``slow``, spread over the first days of ``month``."""
    values = [fast] * within + [slow] * late
    return [f"{code},{month}-{1 + index % 27:02d}T{8 + index % 9:02d}:{index % 60:02d}:00,{value}" for index, value in enumerate(values)]


def periods_of(code: str, start: datetime.date, end: datetime.date, as_of: datetime.date):
    (item,) = norm_attainment(start=start, end=end, norms=ServiceNorm.objects.filter(code=code), as_of=as_of)
    return item


@pytest.fixture
def small_cell_off(settings):
    """Boundary tests look at single cases: no small-cell suppression."""
    settings.HANDVEST_SMALL_CELL = 1


def test_exactly_25_seconds_is_within_and_a_millisecond_more_is_not(norms):
    load(calls("2026-03", within=3, late=2))
    (march,) = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert (march.period, march.observations, march.within, march.attained) == ("2026-03", 5, 3, 0.6)


def test_the_required_share_is_met_at_exactly_80_percent(norms):
    load(calls("2026-01", within=80, late=20) + calls("2026-02", within=79, late=21))
    item = periods_of("TEL-25SEC", D(2026, 1, 1), D(2026, 3, 1), D(2026, 5, 1))
    assert [(period.attained, period.met) for period in item.periods] == [(0.8, True), (0.79, False)]


def test_a_maximum_duration_is_met_only_when_every_visit_is_within_it(norms):
    load(
        calls("2026-03", within=50, late=0, code="BALIE-AFSPRAAK", fast="3") + calls("2026-04", within=49, late=1, code="BALIE-AFSPRAAK", fast="3", slow="3.5")
    )
    item = periods_of("BALIE-AFSPRAAK", D(2026, 3, 1), D(2026, 5, 1), D(2026, 6, 1))
    assert [period.met for period in item.periods] == [True, False]


def test_a_notice_in_advance_must_be_at_least_the_amount(norms):
    load(calls("2026-03", within=2, late=1, code="OVERIG-VERLOOPBERICHT", fast="4", slow="3.9"))
    (march,) = periods_of("OVERIG-VERLOOPBERICHT", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert (march.observations, march.within, march.met) == (3, 2, False)


def test_a_period_without_observations_has_no_share_and_met_is_null(norms):
    load(calls("2026-03", within=10, late=0))
    item = periods_of("TEL-25SEC", D(2026, 2, 1), D(2026, 4, 1), D(2026, 5, 1))
    assert [(period.observations, period.attained, period.met) for period in item.periods] == [(0, None, None), (10, 1.0, True)]


def test_a_qualitative_norm_is_never_judged_even_with_totals(norms):
    load(["TEL-GROET,2026-03-01,2026-03-31,50,47"])
    (march,) = periods_of("TEL-GROET", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert (march.observations, march.attained, march.met) == (50, 0.94, None)


def test_totals_count_in_the_period_their_first_day_falls_in_beside_the_observations(norms):
    load(["TEL-25SEC,2026-03-30,2026-04-05,100,90"])
    load(calls("2026-03", within=10, late=0))
    march, april = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 5, 1), D(2026, 5, 10)).periods
    assert (march.observations, march.within, april.observations) == (110, 100, 0)


def test_a_call_at_local_midnight_counts_in_its_local_month(norms):
    load(["TEL-25SEC,2026-04-01T00:30:00,10"])  # 31 March 22:30 UTC
    march, april = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 5, 1), D(2026, 5, 10)).periods
    assert (march.observations, april.observations) == (0, 1)


def test_periods_after_the_reference_day_are_left_out_and_the_running_one_is_marked(norms):
    item = periods_of("TEL-25SEC", D(2026, 1, 1), D(2027, 1, 1), D(2026, 3, 15))
    assert [period.period for period in item.periods] == ["2026-01", "2026-02", "2026-03"]
    assert [period.in_progress for period in item.periods] == [False, False, True]


# --- measured from the cases --------------------------------------------------------------------------


def test_an_acknowledgement_exactly_4_working_days_after_receipt_over_easter_is_in_time(norms, small_cell_off):
    # Received Thursday 2 April 2026; Good Friday 3 and Easter Monday 6 April are no working days: due Friday 10 April.
    build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 10), 23, 30))
    build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 13), 8, 0))
    rollup_refresh()
    (quarter,) = periods_of("POST-ONTVANGSTBEVESTIGING", D(2026, 4, 1), D(2026, 7, 1), D(2026, 7, 1)).periods
    assert (quarter.period, quarter.observations, quarter.within, quarter.met) == ("2026-Q2", 2, 1, False)


def test_a_case_answered_at_once_needs_no_acknowledgement(norms, small_cell_off):
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 4, 3)), closed=at(D(2026, 4, 3)), outcome="gegrond")
    build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 7)))
    rollup_refresh()
    (quarter,) = periods_of("POST-ONTVANGSTBEVESTIGING", D(2026, 4, 1), D(2026, 7, 1), D(2026, 7, 1)).periods
    assert (quarter.observations, quarter.within, quarter.met) == (1, 1, True)


def test_an_open_case_counts_as_late_only_once_its_term_has_passed(norms, small_cell_off):
    build_case(received_on=D(2026, 4, 2))
    rollup_refresh()
    before = periods_of("POST-ONTVANGSTBEVESTIGING", D(2026, 4, 1), D(2026, 7, 1), D(2026, 4, 10)).periods[0]
    after = periods_of("POST-ONTVANGSTBEVESTIGING", D(2026, 4, 1), D(2026, 7, 1), D(2026, 4, 11)).periods[0]
    assert (before.observations, after.observations, after.within) == (0, 1, 0)


def test_an_answer_on_the_day_the_six_weeks_end_after_ascension_is_in_time(norms, small_cell_off):
    # Six weeks after 2 April 2026 is Ascension Day, 14 May: the term ends on Friday 15 May.
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 5, 15)))
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 5, 18)))
    rollup_refresh()
    (quarter,) = periods_of("POST-REACTIE", D(2026, 4, 1), D(2026, 7, 1), D(2026, 9, 1)).periods
    assert (quarter.observations, quarter.within) == (2, 1)


def test_a_later_answer_after_a_timely_interim_notice_keeps_the_promise(norms, small_cell_off):
    in_time = {"extended_on": at(D(2026, 5, 12)), "extended_to": D(2026, 6, 12)}
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 6, 10)), **in_time)
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 6, 15)), **in_time)  # after the extended term
    build_case(received_on=D(2026, 4, 2), answered=at(D(2026, 6, 10)), extended_on=at(D(2026, 5, 20)), extended_to=D(2026, 6, 12))  # notice too late
    build_case(received_on=D(2026, 4, 2), closed=at(D(2026, 4, 20)))  # withdrawn: no answer owed
    rollup_refresh()
    (quarter,) = periods_of("POST-REACTIE", D(2026, 4, 1), D(2026, 7, 1), D(2026, 9, 1)).periods
    assert (quarter.observations, quarter.within) == (3, 1)


def test_fewer_cases_than_the_small_cell_threshold_are_shown_as_less_than(norms):
    build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 7)))
    rollup_refresh()
    (quarter,) = periods_of("POST-ONTVANGSTBEVESTIGING", D(2026, 4, 1), D(2026, 7, 1), D(2026, 7, 1)).periods
    assert (quarter.observations_value, quarter.within_value, quarter.attained, quarter.met) == ("<3", None, None, None)


# --- targets versioned with the norm's revisions ------------------------------------------------------


def _published_long_ago(norm: ServiceNorm) -> None:
    """The charter was loaded at the start of 2025 (the test loads it today)."""
    ModelLogEntry.objects.filter(object_id=str(norm.pk), action="wagtail.publish").update(timestamp=datetime.datetime(2025, 1, 1, tzinfo=AMS))


def test_a_revised_target_applies_only_from_its_revision_onwards(harlingen):
    load(calls("2026-01", within=85, late=15) + calls("2026-02", within=85, late=15) + calls("2026-03", within=85, late=15))
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    _published_long_ago(norm)
    norm.target_percentage = 90
    revision = norm.save_revision()
    revision.publish()
    ModelLogEntry.objects.filter(revision=revision, action="wagtail.publish").update(timestamp=datetime.datetime(2026, 2, 15, 12, tzinfo=AMS))
    item = periods_of("TEL-25SEC", D(2026, 1, 1), D(2026, 4, 1), D(2026, 5, 1))
    # January and February began under 80%; the revision of 15 February applies from March.
    assert [(period.attained, period.met) for period in item.periods] == [(0.85, True), (0.85, True), (0.85, False)]
    assert item.target == "80% binnen 25 seconden (per maand); vanaf maart 2026: 90% binnen 25 seconden (per maand)"


def test_a_draft_of_a_new_target_is_not_applied(harlingen):
    load(calls("2026-03", within=85, late=15))
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    norm.target_percentage = 90
    norm.save_revision()
    (march,) = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert march.met is True


def test_a_revision_to_quarterly_measuring_takes_effect_at_the_next_quarter(harlingen):
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    _published_long_ago(norm)
    norm.measurement_period = "quarter"
    revision = norm.save_revision()
    revision.publish()
    ModelLogEntry.objects.filter(revision=revision, action="wagtail.publish").update(timestamp=datetime.datetime(2026, 2, 10, tzinfo=AMS))
    item = periods_of("TEL-25SEC", D(2026, 1, 1), D(2026, 7, 1), D(2026, 8, 1))
    assert [period.period for period in item.periods] == ["2026-01", "2026-02", "2026-03", "2026-Q2"]


def test_latest_attainment_gives_each_measured_norm_its_latest_period_with_observations(norms):
    load(calls("2026-10", within=90, late=10) + calls("2026-11", within=70, late=30))
    found = {row.code: row for row in latest_attainment(as_of=D(2026, 11, 20))}
    assert set(found) == {
        "TEL-25SEC",
        "TEL-TERUGBELLEN",
        "POST-UITZETTEN",
        "POST-ONTVANGSTBEVESTIGING",
        "POST-REACTIE",
        "BALIE-AFSPRAAK",
        "BALIE-WACHTTIJD",
        "OVERIG-VERLOOPBERICHT",
    }
    latest = found["TEL-25SEC"].latest
    assert (latest.period, latest.attained, latest.met, latest.in_progress) == ("2026-11", 0.7, False, True)
    assert found["BALIE-AFSPRAAK"].latest is None


def test_a_period_just_short_of_its_norm_never_shows_100_percent():
    """2,499 of 2,500 within, where every one must be: 'niet gehaald' beside 99,9%, not beside 100,0%."""
    from decimal import Decimal

    from cases.measurements.attainment import PeriodAttainment

    period = PeriodAttainment(period="2026-Q1", start=D(2026, 1, 1), end=D(2026, 3, 31), observations=2500, within=2499, required=Decimal("1"))
    assert (period.attained, period.percent_display, period.met_display) == (0.999, "99,9%", "niet gehaald")
    calls = PeriodAttainment(period="2026-Q1", start=D(2026, 1, 1), end=D(2026, 3, 31), observations=50000, within=39998, required=Decimal("0.8"))
    assert (calls.percent_display, calls.met) == ("79,9%", False)
    full = PeriodAttainment(period="2026-Q1", start=D(2026, 1, 1), end=D(2026, 3, 31), observations=2500, within=2500, required=Decimal("1"))
    assert (full.percent_display, full.met) == ("100,0%", True)


def test_a_chart_over_two_years_names_the_year_under_its_first_month():
    from decimal import Decimal

    from cases.measurements.attainment import PeriodAttainment
    from cases.measurements.charts import attainment_chart

    months = [D(2025, month, 1) for month in range(10, 13)] + [D(2026, month, 1) for month in range(1, 4)]
    periods = [
        PeriodAttainment(period=f"{day:%Y-%m}", start=day, end=day, observations=10, within=9, required=Decimal("0.8")) for day in months
    ]
    svg = str(attainment_chart(ident="t", title="Binnen de norm", periods=periods, required=Decimal("0.8")))
    assert ">okt</text>" in svg and ">jan</text>" in svg
    assert svg.count(">2025</text>") == 1 and svg.count(">2026</text>") == 1  # under October and under January
    one_year = str(attainment_chart(ident="u", title="x", periods=periods[3:], required=Decimal("0.8")))
    assert ">2026</text>" not in one_year  # within one year the months need no year


def test_the_chart_draws_the_required_share_each_period_was_judged_by():
    """A share revised from 80% to 90% in April: the dashed line stands at 80% over January–March and at 90% from
    April on, each labelled, as the summary under it says; one line at the latest share would show March judged by 90%."""
    import re
    from decimal import Decimal

    from cases.measurements.attainment import PeriodAttainment
    from cases.measurements.charts import attainment_chart

    periods = [
        PeriodAttainment(period=f"2026-{month:02d}", start=D(2026, month, 1), end=D(2026, month, 1), observations=10, within=8,
                         required=Decimal("0.8") if month < 4 else Decimal("0.9"))
        for month in range(1, 7)
    ]
    svg = str(attainment_chart(ident="t", title="Binnen de norm", periods=periods, required=Decimal("0.9")))
    lines = re.findall(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="[\d.]+" stroke="[^"]+" stroke-dasharray', svg)
    assert len(lines) == 2
    (a_start, a_y, a_end), (b_start, b_y, _b_end) = ((float(x1), float(y), float(x2)) for x1, y, x2 in lines)
    assert a_end == b_start and a_start < a_end  # the step falls where April begins
    assert float(a_y) > float(b_y)  # 80% stands lower than 90%
    assert ">norm 80%</text>" in svg and ">norm 90%</text>" in svg
    steady = str(attainment_chart(ident="u", title="x", periods=periods[3:], required=Decimal("0.9")))
    assert steady.count("stroke-dasharray") == 1 and ">norm 80%</text>" not in steady
