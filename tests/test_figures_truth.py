"""Are the figures true? Each test computes the expected figure by hand, from the rule it follows, and
compares it with what the reports and pages show (found by a review of the figures, December 2026)."""


import pytest
from django.db import transaction

from cases.conversation.reopening import _reopen
from cases.measurements.attainment import norm_attainment
from cases.measurements.charter_report import charter_report_build, charter_report_to_data
from cases.models import Case, CaseEvent, EventKind
from cases.reporting.compliance import compliance_by_kind, compliance_figures
from cases.reporting.report import report_build, report_to_data
from cases.reporting.rollup import rollup_refresh
from cases.workflow.transitions import locked_case
from cms.models import ServiceNorm
from tests.test_aggregates_data import D, at, build_case, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AS_OF = D(2025, 12, 31)
YEAR_2025 = {"start": D(2025, 1, 1), "end": D(2026, 1, 1)}


def reopen(case: Case) -> Case:
    """Reopen a closed case through the conversation's own reopen step (sets reopened_answer_due)."""
    with transaction.atomic():
        locked = locked_case(case.pk)
        _reopen(locked, None, "De indiener was niet tevreden.")
    case.refresh_from_db()
    return case


def section_values(report, key):
    data = report_to_data(report)
    (section,) = [item for item in data["sections"] if item["key"] == key]
    return {row["key"]: row["values"] for row in section["rows"]}


# --- 1. The extended term after a reopening ------------------------------------------------------------


@pytest.fixture
def late_after_extension_then_reopened(municipality, settings):
    settings.HANDVEST_SMALL_CELL = 1  # single cases: look at the numbers themselves
    # Received Monday 3 March 2025: answer due 14 April. Extended in time (10 April) to 12 May,
    # answered 20 May: late, also against the extended term. Closed, then reopened (new term ~6 weeks
    # from the day it was reopened).
    case = build_case(
        received_on=D(2025, 3, 3),
        acknowledged=at(D(2025, 3, 4)),
        extended_on=at(D(2025, 4, 10)),
        extended_to=D(2025, 5, 12),
        answered=at(D(2025, 5, 20)),
        closed=at(D(2025, 5, 21)),
        outcome="gegrond",
    )
    case = reopen(case)
    assert case.reopened_answer_due is not None and case.reopened_answer_due > D(2025, 5, 20)
    rollup_refresh()
    return case


def test_answer_within_extended_term_is_not_rescued_by_the_reopened_term(late_after_extension_then_reopened):
    # Expected: 0 of 1 within the (extended) term. The first answer (20 May) counts (README: "the answer
    # that counts is the first"), and the term that applied to it was the extended one, 12 May (Awb 9:11
    # lid 2). The code compares handled_on with CaseFact.effective_answer_due, which is the LATEST of the
    # original, extended and *reopened* terms, so the late first answer counts as in time: 1 of 1.
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert (figures.answer_within_term.part, figures.answer_within_term.whole) == (0, 1)


def test_post_reactie_attainment_is_not_rescued_by_the_reopened_term(norms, late_after_extension_then_reopened):
    # Expected: POST-REACTIE 2025-Q1 has 1 observation, 0 within (answer 20 May after the extended term of
    # 12 May). from_cases.answer_counts passes CaseFact.effective_answer_due (which includes the reopened
    # term) as the extended term, so the answer counts as within: 1 of 1, "gehaald".
    (item,) = norm_attainment(start=D(2025, 1, 1), end=D(2025, 4, 1), norms=ServiceNorm.objects.filter(code="POST-REACTIE"), as_of=AS_OF)
    (q1,) = item.periods
    assert (q1.observations, q1.within) == (1, 0)


def test_late_answer_without_extension_stays_late_after_reopening(municipality, settings):
    # Control (passes): without an extension the reopened term does not help (the six-weeks share).
    settings.HANDVEST_SMALL_CELL = 1
    case = build_case(received_on=D(2025, 3, 3), acknowledged=at(D(2025, 3, 4)), answered=at(D(2025, 5, 20)), closed=at(D(2025, 5, 21)), outcome="gegrond")
    reopen(case)
    rollup_refresh()
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (0, 1)
    assert (figures.answer_within_term.part, figures.answer_within_term.whole) == (0, 1)


# --- 2. A decision without an answer letter, then reopened --------------------------------------------


def test_first_handling_counts_for_a_case_resolved_informally_then_reopened(municipality, settings):
    settings.HANDVEST_SMALL_CELL = 1
    # Received 3 March 2025 (answer due 14 April), resolved to the complainant's satisfaction on 5 March
    # (Awb 9:5; handled in 2 days, within the acknowledgement term). Reopened, and resolved again on 20 May.
    case = build_case(received_on=D(2025, 3, 3), closed=at(D(2025, 3, 5)), outcome="informeel_opgelost")
    # The step as case_transition records it (build_case writes the state without the workflow).
    CaseEvent.objects.create(case=case, kind=EventKind.TRANSITION, name="resolve_informally", from_state="received", to_state="closed", at=at(D(2025, 3, 5)))
    case = reopen(case)
    Case.objects.filter(pk=case.pk).update(state="closed", outcome="informeel_opgelost", closed_at=at(D(2025, 5, 20)))
    rollup_refresh()
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # Expected: answered within six weeks 1 of 1 and handling time 2 days: README "The answer that counts
    # is the first (a reopened case answered again keeps it)"; for a complaint ended by a decision the
    # decision is its handling (CaseFact.handled_on). Reopening clears closed_at (Case._clear_ending) and
    # handled_on is recomputed from the second closing: 0 of 1 on time, 78 days.
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (1, 1)
    assert figures.handling.median == 2.0


# --- 3. Outcomes as on the day of reference -------------------------------------------------------------


def test_outcomes_in_the_annual_report_stand_as_on_the_as_of_day(municipality):
    # Three complaints received in November 2025, still open on 31 December 2025 (answered 10 January,
    # closed 12 January 2026 as gegrond).
    for index in range(3):
        build_case(
            received_on=D(2025, 11, 3 + index),
            acknowledged=at(D(2025, 11, 4 + index)),
            answered=at(D(2026, 1, 10)),
            closed=at(D(2026, 1, 12)),
            outcome="gegrond",
        )
    rollup_refresh()
    by_kind = compliance_by_kind(**YEAR_2025, as_of=AS_OF)
    complaints = by_kind["complaint"]
    assert complaints.open_cases.count == 3  # open on the day of reference: right
    assert complaints.handling.handled.count == 0  # not handled yet on that day: right
    # Expected: 0 complaints "gegrond" as on 31 December 2025 (README: "the figures stand as they were on
    # that day"; the same report says all 3 were still open then). compliance._tally counts every case
    # that is closed *now* into the outcomes, ignoring as_of: gegrond = 3.
    assert complaints.outcomes["gegrond"].count == 0
    report = report_build(year=2025, as_of=AS_OF)
    assert section_values(report, "outcomes_complaints")["gegrond"]["count"] == 0


# --- 4. Small cells in the attainment of norms measured from the cases -------------------------------


def ten_complaints_one_answered_in_time() -> None:
    """Ten complaints received in April 2025 (Q2), all acknowledged at once; one answered within six weeks,
    nine late."""
    for index in range(10):
        received = D(2025, 4, 1 + index)
        answered = D(2025, 4, 20) if index == 0 else D(2025, 7, 1)
        build_case(received_on=received, acknowledged=at(received), answered=at(answered), closed=at(answered), outcome="gegrond")
    rollup_refresh()


def test_attainment_from_cases_hides_a_small_within_count(norms):
    # POST-REACTIE 2025-Q2: 10 observations, 1 within.
    ten_complaints_one_answered_in_time()
    (item,) = norm_attainment(start=D(2025, 4, 1), end=D(2025, 7, 1), norms=ServiceNorm.objects.filter(code="POST-REACTIE"), as_of=AS_OF)
    (q2,) = item.periods
    assert (q2.observations, q2.within) == (10, 1)
    # The within count of cases is hidden (small-cell rule) and so is the share beside it, as the annual
    # report's own Share does: 10 % of 10 would give the hidden 1 away.
    data = charter_report_to_data(charter_report_build(year=2025, as_of=AS_OF, charts=False))
    (norm,) = [entry for entry in data["norms"] if entry["code"] == "POST-REACTIE"]
    (period,) = [entry for entry in norm["periods"] if entry["period"] == "2025-Q2"]
    assert period["within_target"] in ("<3", None)
    assert period["attained"] is None


def test_compliance_share_hides_a_small_on_time_count(municipality):
    # The same ten cases in the annual report's compliance: 1 of 10 is shown as <3, no %.
    ten_complaints_one_answered_in_time()
    share = compliance_figures(**YEAR_2025, as_of=AS_OF).answer_within_six_weeks
    assert (share.part, share.whole, share.part_figure.value, share.percent) == (1, 10, "<3", None)


# --- 6. A case withdrawn after the day of reference was still owed an answer on that day ---------------


def test_a_case_withdrawn_after_the_day_of_reference_counts_as_owed_and_late_that_day(norms, settings):
    settings.HANDVEST_SMALL_CELL = 1
    # Received 3 March 2025 (answer due 14 April), never answered, withdrawn on 10 January 2026.
    build_case(received_on=D(2025, 3, 3), acknowledged=at(D(2025, 3, 4)), closed=at(D(2026, 1, 10)), outcome="ingetrokken")
    rollup_refresh()
    on_31_december = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert (on_31_december.answer_within_six_weeks.part, on_31_december.answer_within_six_weeks.whole) == (0, 1)
    after_withdrawal = compliance_figures(**YEAR_2025, as_of=D(2026, 1, 15))
    assert after_withdrawal.answer_within_six_weeks.whole == 0  # withdrawn by then: no answer owed
    (item,) = norm_attainment(start=D(2025, 1, 1), end=D(2025, 4, 1), norms=ServiceNorm.objects.filter(code="POST-REACTIE"), as_of=AS_OF)
    assert (item.periods[0].observations, item.periods[0].within) == (1, 0)
