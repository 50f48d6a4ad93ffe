"""The share of promised call-backs made on time (charter TEL-TERUGBELLEN), beside the acknowledgement and answer shares.

Judged as the acknowledgement is: a call-back made counts, kept when the citizen was reached on or before
``callback_due``; one never made is late once its day has passed on the day of reference. A promise whose
case got an explanation, answer or decision, or was withdrawn, on or before its day owed no call-back any
more (``Case.callback_owed``): it is left out, not counted as kept. Hand-built cases, as tests/test_compliance.py.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseFact
from cases.reporting.compliance import compliance_by_kind, compliance_figures
from cases.reporting.increments import refresh_cases
from cases.reporting.report import report_build, report_to_csv, report_to_data, report_to_html
from cases.reporting.rollup import FACT_COLUMNS, rollup_refresh
from cases.workflow.deadlines import case_deadlines, forget_charter_terms
from cases.workflow.handling import case_record_callback
from cms.models import ServiceNorm
from cms.roles import EDITORS
from tests.factories import UserFactory
from tests.test_aggregates_data import AS_OF, D, at, build_case, norms_fixture  # noqa: F401
from tests.test_aggregates_incremental import recounted, stored
from tests.test_callback import phoned_case
from tests.test_report import flat_csv, flat_json

pytestmark = pytest.mark.django_db

YEAR_2025 = {"start": D(2025, 1, 1), "end": D(2026, 1, 1)}
CALLBACK_COLUMNS = ("on_time", "total", "percent")


def promised(received_on, *, called_back=None, explained=None, answered=None, closed=None, outcome="", kind="complaint") -> Case:
    """A phone case whose call-back was promised at intake (due as intake computes it), handled on the given moments."""
    case = build_case(received_on=received_on, kind=kind, channel="phone", answered=answered, closed=closed, outcome=outcome)
    due = case_deadlines(received_on=received_on, callback_requested=True)["callback_due"]
    Case.objects.filter(pk=case.pk).update(callback_due=due, called_back_at=called_back, explained_at=explained)
    case.refresh_from_db()
    return case


@pytest.fixture
def callbacks(norms):
    """Promised call-backs of 2025 (Harlingen: 2 working days). Monday 3 March: due Wednesday 5 March."""
    cases = {
        "kept": promised(D(2025, 3, 3), called_back=at(D(2025, 3, 5))),
        # 23:30 in Amsterdam on the day itself (21:30 UTC): on time.
        "kept_late_evening": promised(D(2025, 3, 3), called_back=at(D(2025, 3, 5), 23, 30)),
        # Monday 2 June: due Wednesday 4 June; a suggestion counts as well.
        "kept_suggestion": promised(D(2025, 6, 2), called_back=at(D(2025, 6, 3)), kind="suggestion"),
        # 00:30 in Amsterdam the day after (still the 5th in UTC): late.
        "late_after_midnight": promised(D(2025, 3, 3), called_back=at(D(2025, 3, 6), 0, 30)),
        "late": promised(D(2025, 3, 3), called_back=at(D(2025, 3, 10))),
        "never": promised(D(2025, 3, 3)),
        # The explanation came, but only after the day: the promise was broken on the day.
        "explained_late": promised(D(2025, 3, 3), explained=at(D(2025, 3, 7))),
        # Spoken to otherwise by the day: no call-back owed any more.
        "explained_in_time": promised(D(2025, 3, 3), explained=at(D(2025, 3, 4))),
        "answered_on_the_day": promised(D(2025, 3, 3), answered=at(D(2025, 3, 5))),
        "withdrawn": promised(D(2025, 3, 3), closed=at(D(2025, 3, 4)), outcome="ingetrokken"),
        # Monday 29 December: due Wednesday 31 December, the day of reference itself: not late yet.
        "not_yet_due": promised(D(2025, 12, 29)),
        "no_promise": build_case(received_on=D(2025, 3, 3), channel="phone"),
        "last_year": promised(D(2024, 12, 2), called_back=at(D(2024, 12, 20))),  # late, but received in 2024
    }
    rollup_refresh()
    return cases


def counts(share) -> tuple[int, int]:
    return share.part, share.whole


# --- the facts ------------------------------------------------------------------------------------------------


def test_the_facts_carry_the_promise_the_call_back_and_the_day_it_was_superseded_in_local_dates(callbacks):
    facts = {fact.case_id: fact for fact in CaseFact.objects.all()}

    def fact(key):
        return facts[callbacks[key].pk]

    assert fact("kept").callback_due == D(2025, 3, 5) and fact("kept").called_back_on == D(2025, 3, 5)
    assert fact("kept_late_evening").called_back_on == D(2025, 3, 5)
    assert fact("late_after_midnight").called_back_on == D(2025, 3, 6)
    assert fact("explained_in_time").callback_superseded_on == D(2025, 3, 4)
    assert fact("answered_on_the_day").callback_superseded_on == D(2025, 3, 5)
    assert fact("withdrawn").callback_superseded_on == D(2025, 3, 4)
    assert fact("never").callback_superseded_on is None
    assert (fact("no_promise").callback_due, fact("no_promise").called_back_on, fact("no_promise").callback_superseded_on) == (None, None, None)


def test_the_superseding_day_is_the_earliest_of_explanation_answer_and_ending(norms):
    # Reopened and explained again, a case keeps its first answer: that came first.
    case = promised(D(2025, 3, 3), explained=at(D(2025, 4, 1)), answered=at(D(2025, 3, 20)), closed=at(D(2025, 4, 2)), outcome="gegrond")
    rollup_refresh()
    assert CaseFact.objects.get(case=case).callback_superseded_on == D(2025, 3, 20)


def test_the_new_fact_columns_hold_dates_only():
    for name in ("callback_due", "called_back_on", "callback_superseded_on"):
        assert name in FACT_COLUMNS
        assert CaseFact._meta.get_field(name).get_internal_type() == "DateField"


# --- the share --------------------------------------------------------------------------------------------------


def test_call_backs_made_by_their_day_are_kept_and_the_rest_late(callbacks):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # kept: kept, kept_late_evening, kept_suggestion; late: late_after_midnight, late, never, explained_late.
    assert counts(figures.callback_on_time) == (3, 7)
    assert figures.callback_on_time.percent == 42.8  # rounded down
    assert str(figures.callback_on_time) == "42,8%"


def test_a_call_back_not_needed_because_the_case_was_explained_answered_or_withdrawn_by_its_day_is_left_out(callbacks):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert figures.callback_not_needed.count == 3
    # Not in the whole either: a promise the municipality no longer owed is neither kept nor broken.
    assert figures.callback_on_time.whole == 7


def test_a_call_back_explained_away_only_after_its_day_is_late(norms):
    promised(D(2025, 3, 3), explained=at(D(2025, 3, 7)))
    rollup_refresh()
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert counts(figures.callback_on_time) == (0, 1)
    assert figures.callback_not_needed.count == 0


def test_the_figure_is_as_it_stood_on_the_day_of_reference(callbacks):
    # On the due day itself nothing is late yet: only the two made that day count.
    on_the_day = compliance_figures(**YEAR_2025, as_of=D(2025, 3, 5))
    assert counts(on_the_day.callback_on_time) == (2, 2)
    # The day after: every promise of 3 March not yet kept is late, also the one made later (10 March).
    day_after = compliance_figures(**YEAR_2025, as_of=D(2025, 3, 6))
    assert counts(day_after.callback_on_time) == (2, 6)
    # Before the explanation and the answer came, they were not yet known to make the call-back unneeded.
    assert compliance_figures(**YEAR_2025, as_of=D(2025, 3, 4)).callback_not_needed.count == 2


def test_an_open_promise_not_yet_due_is_left_out_until_its_day_has_passed(callbacks):
    assert compliance_figures(**YEAR_2025, as_of=D(2025, 12, 31)).callback_on_time.whole == 7
    assert compliance_figures(**YEAR_2025, as_of=D(2026, 1, 2)).callback_on_time.whole == 8


def test_cases_received_outside_the_period_are_left_out(callbacks):
    assert counts(compliance_figures(start=D(2024, 1, 1), end=D(2025, 1, 1), as_of=AS_OF).callback_on_time) == (0, 1)
    assert counts(compliance_figures(start=D(2025, 6, 1), end=D(2025, 7, 1), as_of=AS_OF).callback_on_time) == (1, 1)


def test_the_share_is_counted_per_kind_and_for_all_together(callbacks):
    by_kind = compliance_by_kind(**YEAR_2025, as_of=AS_OF)
    assert counts(by_kind["complaint"].callback_on_time) == (2, 6)
    assert counts(by_kind["suggestion"].callback_on_time) == (1, 1)
    assert counts(by_kind["all"].callback_on_time) == (3, 7)


def test_a_share_of_too_few_call_backs_is_not_shown(norms):
    promised(D(2025, 3, 3), called_back=at(D(2025, 3, 4)))
    promised(D(2025, 3, 3))
    rollup_refresh()
    share = compliance_figures(**YEAR_2025, as_of=AS_OF).callback_on_time
    assert counts(share) == (1, 2)
    assert share.percent is None and str(share) == "—"
    assert (str(share.part_figure), str(share.whole_figure)) == ("<3", "<3")
    values = flat_json(report_to_data(report_build(year=2025, as_of=AS_OF)))
    assert [values[("compliance", "callback", column)] for column in CALLBACK_COLUMNS] == ["<3", "<3", None]


# --- kept current case by case ----------------------------------------------------------------------------------


def test_a_call_back_recorded_by_the_officer_reaches_the_facts_through_the_case_by_case_refresh(municipality, handler):
    case = phoned_case(handler, days_ago=14)
    received = case.registration.received_on
    refresh_cases([case.pk])
    assert CaseFact.objects.get(case=case).callback_due == case.callback_due
    case_record_callback(case_id=case.pk, reached=True, note="", actor=handler)
    refresh_cases([case.pk])
    fact = CaseFact.objects.get(case=case)
    assert fact.called_back_on == timezone.localdate()
    # The case-by-case refresh left exactly what a complete rebuild gives.
    before = stored()
    assert recounted() == before
    # Two working days have long passed: reached today, the promise was kept late.
    figures = compliance_figures(start=received, end=received + datetime.timedelta(days=1))
    assert counts(figures.callback_on_time) == (0, 1)


# --- where it is shown --------------------------------------------------------------------------------------------


def test_the_annual_report_carries_the_share_in_every_format(callbacks):
    report = report_build(year=2025, as_of=AS_OF)
    labels = {row.key: row.label for row in report.section("compliance").rows}
    assert labels["callback"] == "teruggebeld binnen 2 werkdagen, zoals toegezegd"
    from_json = flat_json(report_to_data(report))
    assert [from_json[("compliance", "callback", column)] for column in CALLBACK_COLUMNS] == [3, 7, 42.8]
    assert [flat_csv(report_to_csv(report))[("compliance", "callback", column)] for column in CALLBACK_COLUMNS] == ["3", "7", "42.8"]
    page = report_to_html(report)
    assert '<td data-section="compliance" data-row="callback" data-column="percent">42,8%</td>' in page
    text = " ".join(page.split())
    assert "Beloven wij u terug te bellen, dan doen wij dat binnen 2 werkdagen." in text
    assert "In 2025 belden wij 42,8% van de toegezegde terugbelverzoeken op tijd terug." in text


def test_a_call_back_term_changed_since_the_year_is_not_put_on_that_years_figures(callbacks):
    ServiceNorm.objects.filter(code="TEL-TERUGBELLEN").update(target_amount=1)
    forget_charter_terms()
    report = report_build(year=2025, as_of=AS_OF)
    labels = {row.key: row.label for row in report.section("compliance").rows}
    assert labels["callback"] == "teruggebeld binnen de termijn die gold bij ontvangst, zoals toegezegd"
    assert labels["acknowledgement"] == "ontvangstbevestiging binnen 4 werkdagen"  # unchanged, still named
    assert "1 werkdag" not in report_to_html(report)
    assert flat_json(report_to_data(report))[("compliance", "callback", "percent")] == 42.8  # measured against the stored days


def test_the_editors_dashboard_shows_the_share_beside_the_acknowledgement(client, callbacks):
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    html = client.get(reverse("handvest_revision:dashboard"), {"periode": "2025"}).content.decode()
    assert "<dt>Ontvangstbevestiging binnen 4 werkdagen</dt>" in html
    # As of today: the promise due on 31 December 2025 has passed unkept too.
    assert "<dt>Teruggebeld binnen 2 werkdagen, zoals toegezegd</dt><dd>37,5% <small>3 van 8</small></dd>" in html


# --- existing facts get the values --------------------------------------------------------------------------------


def _migrate(target):
    MigrationExecutor(connection).migrate([target])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_fills_the_call_back_columns_of_facts_stored_before_it(municipality):
    case = promised(D(2025, 3, 3), called_back=at(D(2025, 3, 5), 23, 30))
    superseded = promised(D(2025, 3, 3), explained=at(D(2025, 3, 4)))
    plain = build_case(received_on=D(2025, 3, 3))
    rollup_refresh()
    expected = {fact.case_id: (fact.callback_due, fact.called_back_on, fact.callback_superseded_on) for fact in CaseFact.objects.all()}
    try:
        _migrate(("cases", "0034_reprint_reason"))
        _migrate(("cases", "0035_fact_callback"))
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    found = {fact.case_id: (fact.callback_due, fact.called_back_on, fact.callback_superseded_on) for fact in CaseFact.objects.all()}
    assert found == expected
    assert found[case.pk] == (D(2025, 3, 5), D(2025, 3, 5), None)
    assert found[superseded.pk][2] == D(2025, 3, 4)
    assert found[plain.pk] == (None, None, None)
