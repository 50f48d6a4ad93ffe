"""Counts per norm × period × kind × channel × outcome, on hand-built cases with known answers."""

import datetime

import pytest
from django.db import connection

from cases.models import Case, CaseFact, CaseNorm, NormMonthCount
from cases.reporting.aggregates import BAD_DIMENSION, case_counts, norm_counts, norm_overview, norm_series, top_norms
from cases.reporting.figures import Figure, Trend, _pinned, protect_groups
from cases.reporting.periods import BAD_PERIOD, BAD_PERIOD_KEY, period_key, period_keys, period_label, period_range, period_short_label, previous_period_key
from cases.reporting.rollup import DaysBetween, rollup_refresh
from cases.workflow.transitions import case_transition
from cms.models import ServiceNorm
from tests.factories import make_case
from tests.test_aggregates_data import D, build_case, build_norm_cases, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

YEAR_2025 = {"start": D(2025, 1, 1), "end": D(2026, 1, 1)}


@pytest.fixture
def cases(norms):
    return build_norm_cases()


def cells(rows, norm):
    return {(row.period, row.kind, row.channel, row.outcome): (row.confirmed.count, row.unconfirmed.count) for row in rows if row.norm == norm}


# --- figures and trends ---------------------------------------------------------------------------------


def test_small_counts_are_shown_as_less_than_three_and_zero_as_zero():
    assert [str(Figure(count, 3)) for count in (0, 1, 2, 3, 10)] == ["0", "<3", "<3", "3", "10"]
    assert Figure(2, 3).value == "<3" and Figure(2, 3).shown is None
    assert Figure(3, 3).value == 3


def test_a_trend_is_only_shown_between_two_shown_counts():
    assert Trend(Figure(6, 3), Figure(3, 3)).delta == 3
    assert Trend(Figure(6, 3), Figure(3, 3)).percent == 100.0
    assert Trend(Figure(6, 3), Figure(0, 3)).direction == "up"
    assert Trend(Figure(6, 3), Figure(0, 3)).percent is None
    assert Trend(Figure(6, 3), Figure(2, 3)).delta is None  # would reveal the 2
    assert str(Trend(Figure(6, 3), Figure(2, 3))) == "—"
    assert str(Trend(Figure(3, 3), Figure(5, 3))) == "-2"


# --- periods --------------------------------------------------------------------------------------------


def test_period_keys_ranges_and_previous_periods():
    assert period_key(D(2025, 2, 14), "month") == "2025-02"
    assert period_key(D(2025, 2, 14), "quarter") == "2025-Q1"
    assert period_key(D(2025, 2, 14), "year") == "2025"
    assert period_range("2025-12") == (D(2025, 12, 1), D(2026, 1, 1))
    assert period_range("2025-Q4") == (D(2025, 10, 1), D(2026, 1, 1))
    assert previous_period_key("2025-01") == "2024-12"
    assert previous_period_key("2025-Q1") == "2024-Q4"
    assert previous_period_key("2025") == "2024"
    assert period_keys(D(2024, 11, 15), D(2025, 2, 1), "month") == ["2024-11", "2024-12", "2025-01"]


def test_period_labels_are_dutch():
    assert period_label("2025-03") == "maart 2025"
    assert period_label("2025-Q1") == "1e kwartaal 2025"
    assert period_label("2025") == "2025"


def test_chart_labels_use_the_dutch_month_abbreviations():
    # The month's name cut to three letters gave "maa" for March; Dutch writes "mrt".
    assert [period_short_label(f"2025-{month:02d}") for month in (1, 3, 5, 6, 10)] == ["jan", "mrt", "mei", "jun", "okt"]
    assert period_short_label("2025-Q3") == "Q3"
    assert period_short_label("2025") == "2025"


@pytest.mark.parametrize("key", ["2025-13", "2025-Q5", "25", "", "2025-1"])
def test_a_bad_period_key_is_refused(key):
    with pytest.raises(ValueError, match="Unknown period key"):
        period_range(key)
    assert BAD_PERIOD_KEY.startswith("Unknown period key")


def test_a_bad_period_or_dimension_is_refused(cases):
    with pytest.raises(ValueError) as period_error:
        norm_counts(**YEAR_2025, period="week")
    assert str(period_error.value) == BAD_PERIOD.format(value="week")
    with pytest.raises(ValueError) as dimension_error:
        norm_counts(**YEAR_2025, by=["sender"])
    assert str(dimension_error.value) == BAD_DIMENSION.format(value="sender")
    with pytest.raises(ValueError, match="must come after"):
        norm_counts(start=D(2025, 2, 1), end=D(2025, 1, 1))


# --- the cube -------------------------------------------------------------------------------------------


def test_counts_per_norm_and_month_separate_confirmed_and_unconfirmed_tags(cases):
    rows = norm_counts(**YEAR_2025, period="month")
    assert cells(rows, "TEL-25SEC") == {("2025-01", None, None, None): (4, 1), ("2025-02", None, None, None): (2, 0)}
    assert cells(rows, "BALIE-WACHTTIJD") == {("2025-02", None, None, None): (3, 0)}
    assert cells(rows, "WEB-INFORMATIE") == {("2025-04", None, None, None): (1, 0)}


def test_rejected_tags_and_merged_cases_are_not_counted(cases):
    rows = norm_counts(start=D(2025, 4, 1), end=D(2025, 5, 1), norms=["TEL-25SEC"])
    assert rows == []
    january = norm_counts(start=D(2025, 1, 1), end=D(2025, 2, 1), norms=["TEL-25SEC"])
    assert january[0].confirmed.count == 4  # the merged case of 8 January is not among them


def test_counts_per_quarter_and_year(cases):
    quarters = norm_counts(start=D(2024, 1, 1), end=D(2026, 1, 1), period="quarter", norms=["TEL-25SEC"])
    assert cells(quarters, "TEL-25SEC") == {("2024-Q1", None, None, None): (3, 0), ("2025-Q1", None, None, None): (6, 1)}
    years = norm_counts(start=D(2024, 1, 1), end=D(2026, 1, 1), period="year", norms=["TEL-25SEC"])
    assert cells(years, "TEL-25SEC") == {("2024", None, None, None): (3, 0), ("2025", None, None, None): (6, 1)}


def test_counts_split_by_kind_channel_and_outcome(cases):
    rows = norm_counts(**YEAR_2025, period="quarter", by=["kind", "channel", "outcome"])
    assert cells(rows, "TEL-25SEC") == {
        ("2025-Q1", "complaint", "web", ""): (4, 0),
        ("2025-Q1", "complaint", "email", ""): (0, 1),
        ("2025-Q1", "complaint", "web", "gegrond"): (2, 0),
    }
    assert cells(rows, "BALIE-WACHTTIJD") == {("2025-Q1", "suggestion", "letter", ""): (3, 0)}


def test_counts_filtered_by_kind_channel_and_outcome(cases):
    assert [row.norm for row in norm_counts(**YEAR_2025, period="year", kinds=["suggestion"])] == ["BALIE-WACHTTIJD"]
    assert cells(norm_counts(**YEAR_2025, period="year", channels=["email"]), "TEL-25SEC") == {("2025", None, None, None): (0, 1)}
    assert cells(norm_counts(**YEAR_2025, period="year", outcomes=["gegrond"]), "TEL-25SEC") == {("2025", None, None, None): (2, 0)}


def test_small_cells_in_the_cube_are_suppressed(cases):
    rows = {row.period: row for row in norm_counts(**YEAR_2025, period="month", norms=["TEL-25SEC"])}
    assert str(rows["2025-01"].confirmed) == "4"
    assert str(rows["2025-01"].unconfirmed) == "<3"
    assert str(rows["2025-02"].confirmed) == "<3"


def test_the_small_cell_threshold_is_configurable(cases, settings):
    settings.HANDVEST_SMALL_CELL = 5
    rows = {row.period: row for row in norm_counts(**YEAR_2025, period="month", norms=["TEL-25SEC"])}
    assert str(rows["2025-01"].confirmed) == "<5"
    assert str(norm_counts(**YEAR_2025, period="year", norms=["TEL-25SEC"])[0].confirmed) == "6"


# --- what editors see -------------------------------------------------------------------------------------


def test_overview_lists_every_active_norm_with_its_figures_and_trend(cases):
    overview = {row.code: row for row in norm_overview(period="2025")}
    assert len(overview) == 29
    tel = overview["TEL-25SEC"].figures
    assert (tel.complaints.count, tel.previous_complaints.count, tel.complaint_trend.delta, tel.complaint_trend.percent) == (6, 3, 3, 100.0)
    assert str(tel.unconfirmed) == "<3"
    assert overview["BALIE-WACHTTIJD"].figures.suggestions.count == 3
    assert str(overview["WEB-INFORMATIE"].figures.complaints) == "<3"
    assert overview["WEB-INFORMATIE"].figures.complaint_trend.delta is None
    assert overview["TEL-GROET"].figures.complaints.count == 0


def test_overview_follows_the_charters_order(cases):
    codes = [row.code for row in norm_overview(period="2025")]
    assert codes[0].startswith("TEL-") and codes[-1] == "KLACHT-UITLEG"
    assert codes.index("BALIE-WACHTTIJD") < codes.index("WEB-INFORMATIE")


def test_series_of_a_norm_includes_empty_periods_and_trends(cases):
    months = norm_series(code="TEL-25SEC", period="month", start=D(2024, 12, 1), end=D(2025, 4, 1))
    assert [(row.period, str(row.complaints)) for row in months] == [("2024-12", "0"), ("2025-01", "4"), ("2025-02", "<3"), ("2025-03", "0")]
    assert months[1].complaint_trend.delta == 4  # 0 → 4
    assert months[2].complaint_trend.delta is None  # 4 → <3: not shown
    quarters = norm_series(code="TEL-25SEC", period="quarter", start=D(2025, 1, 1), end=D(2025, 7, 1))
    assert [(row.period, row.complaints.count, row.previous_complaints.count) for row in quarters] == [("2025-Q1", 6, 0), ("2025-Q2", 0, 6)]


def test_top_norms_by_complaints_and_by_suggestions(cases):
    assert [(row.code, str(row.count)) for row in top_norms(period="2025")] == [("TEL-25SEC", "6"), ("WEB-INFORMATIE", "<3")]
    assert [(row.code, str(row.count)) for row in top_norms(period="2025", kind="suggestion")] == [("BALIE-WACHTTIJD", "3")]
    assert top_norms(period="2025", limit=1)[0].code == "TEL-25SEC"
    assert top_norms(period="2023") == []


def test_case_counts_per_kind_channel_and_quarter(cases):
    counts = case_counts(**YEAR_2025, by=("kind", "channel"))
    assert {key: figure.count for key, figure in counts.items()} == {
        ("complaint", "web"): 7,
        ("complaint", "email"): 1,
        ("suggestion", "letter"): 3,
    }
    quarters = case_counts(**YEAR_2025, by=("kind",), period="quarter")
    assert quarters[("complaint", "2025-Q1")].count == 7
    assert str(quarters[("complaint", "2025-Q2")]) == "<3"


# --- keeping the rollup current ------------------------------------------------------------------------------


def test_refreshing_one_month_leaves_the_others_alone(cases):
    before = NormMonthCount.objects.exclude(month=D(2025, 1, 1)).count()
    CaseNorm.objects.filter(case=cases["a_jan_suggested"]).update(status="confirmed")
    result = rollup_refresh(months=[D(2025, 1, 20)])
    assert result.months == (D(2025, 1, 1),)
    assert NormMonthCount.objects.exclude(month=D(2025, 1, 1)).count() == before
    assert norm_counts(start=D(2025, 1, 1), end=D(2025, 2, 1))[0].confirmed.count == 5


def test_a_confirmed_tag_reaches_the_figures_after_commit(cases, django_capture_on_commit_callbacks):
    tag = CaseNorm.objects.get(case=cases["a_jan_suggested"])
    with django_capture_on_commit_callbacks(execute=True):
        tag.status = "confirmed"
        tag.save()
    row = norm_counts(start=D(2025, 1, 1), end=D(2025, 2, 1))[0]
    assert (row.confirmed.count, row.unconfirmed.count) == (5, 0)


def test_a_corrected_date_of_receipt_moves_the_case_to_its_new_month(cases, django_capture_on_commit_callbacks):
    registration = cases["c_apr"].registration
    with django_capture_on_commit_callbacks(execute=True):
        registration.received_on = D(2025, 3, 28)
        registration.save()
    assert CaseFact.objects.get(case=cases["c_apr"]).received_on == D(2025, 3, 28)
    assert cells(norm_counts(**YEAR_2025), "WEB-INFORMATIE") == {("2025-03", None, None, None): (1, 0)}


def test_a_closed_case_moves_to_its_outcome_after_commit(norms, django_capture_on_commit_callbacks, settings):
    settings.HANDVEST_TAG_ON_REGISTRATION = False
    case = make_case(state="answered", received_on=D(2025, 6, 2))
    CaseNorm.objects.create(case=case, norm=ServiceNorm.objects.get(code="TEL-BEJEGENING"), status="confirmed")
    rollup_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case_id=case.pk, name="close", outcome="ongegrond")
    rows = norm_counts(**YEAR_2025, by=["outcome"], norms=["TEL-BEJEGENING"])
    assert [(row.outcome, row.confirmed.count) for row in rows] == [("ongegrond", 1)]


def test_a_failing_refresh_never_breaks_the_change_that_caused_it(cases, django_capture_on_commit_callbacks, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("rollup down")

    monkeypatch.setattr("cases.tasks.refresh_pending", broken)
    tag = CaseNorm.objects.get(case=cases["a_jan_suggested"])
    with django_capture_on_commit_callbacks(execute=True):
        tag.status = "confirmed"
        tag.save()
    assert CaseNorm.objects.get(pk=tag.pk).status == "confirmed"
    assert "rollup down" in caplog.text


def test_the_full_rebuild_matches_a_plain_count(cases):
    rollup_refresh()
    assert CaseFact.objects.count() == Case.objects.filter(merged_into__isnull=True).count()
    counted = sum(NormMonthCount.objects.values_list("cases", flat=True))
    assert counted == CaseNorm.objects.filter(status__in=["confirmed", "suggested"], case__merged_into__isnull=True).count()


def test_days_between_counts_calendar_days_on_this_database(cases):
    fact = CaseFact.objects.annotate(days=DaysBetween(datetime.date(2025, 3, 1), "received_on")).get(case=cases["a_jan_0"])
    assert fact.days == 54  # 6 January → 1 March 2025
    assert connection.vendor in ("sqlite", "postgresql")


# --- secondary suppression: no small count worked out by subtraction ------------------------------------
def hidden_values(whole, parts):
    return [part.value for part in parts], whole.value


def test_one_small_part_beside_its_total_hides_the_smallest_other_part():
    whole, parts = Figure(10, 3), [Figure(1, 3), Figure(4, 3), Figure(5, 3), Figure(0, 3)]
    protect_groups([(whole, parts)])
    assert hidden_values(whole, parts) == (["<3", "×", 5, 0], 10)  # 10 − 5 − 0 = 5 is the sum of two, one of them 3 or more


def test_two_small_parts_that_could_only_be_one_each_are_protected_too():
    whole, parts = Figure(8, 3), [Figure(1, 3), Figure(1, 3), Figure(6, 3)]
    protect_groups([(whole, parts)])
    assert [part.value for part in parts] == ["<3", "<3", "×"]  # 8 − 6 = 2 would make both 1


def test_small_parts_whose_sum_leaves_room_are_left_as_they_are():
    whole, parts = Figure(9, 3), [Figure(1, 3), Figure(2, 3), Figure(6, 3)]
    protect_groups([(whole, parts)])
    assert [part.value for part in parts] == ["<3", "<3", 6]  # 3 = 1 + 2 or 2 + 1: neither is known


def test_when_hiding_parts_is_not_enough_the_total_is_hidden():
    whole, parts = Figure(4, 3), [Figure(0, 3), Figure(1, 3), Figure(3, 3)]
    protect_groups([(whole, parts)])
    # Hiding the 3 leaves 4 = a small one + a hidden one of 3 or more: the small one is still 1.
    assert [part.value for part in parts] == [0, "<3", "×"] and whole.value == "×"


def test_a_part_hidden_in_one_group_is_protected_in_the_other_group_it_belongs_to():
    # January and February make the quarter; February and a note of 3 make another total on the page.
    january, february, march = Figure(1, 3), Figure(4, 3), Figure(5, 3)
    quarter = Figure(10, 3)
    other_part = Figure(3, 3)
    other_whole = Figure(7, 3)  # February + 3
    protect_groups([(quarter, [january, february, march]), (other_whole, [february, other_part])])
    assert january.value == "<3" and february.value == "×"
    # February alone hidden beside 7 − 3 would be 4, and January 10 − 5 − 4 = 1: the 3 goes too.
    assert other_part.value == "×"
    for whole, parts in ((quarter, [january, february, march]), (other_whole, [february, other_part])):
        assert not _pinned(whole, parts)
