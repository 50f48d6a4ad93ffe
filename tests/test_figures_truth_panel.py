"""Are the figures true (the norm panel and the terms)? The panel's secondary suppression in a period
still running, and the Dutch working-day terms around holidays, closing days and midnight."""

import pytest

from cases.models import CaseFact
from cases.reporting.compliance import compliance_figures
from cases.reporting.rollup import rollup_refresh
from cases.workspace import revision
from cms.models import ServiceNorm
from tests.test_aggregates_data import D, at, build_case, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def april_and_may_on_the_panel(monkeypatch, today):
    """TEL-25SEC complaints April 2025 ×3 and May 2025 ×2, nothing else, as the panel shows them on ``today``:
    (April, May, Q2)."""
    for day in (1, 2, 3):
        build_case(received_on=D(2025, 4, day), tags={"TEL-25SEC": "confirmed"})
    for day in (5, 6):
        build_case(received_on=D(2025, 5, day), tags={"TEL-25SEC": "confirmed"})
    rollup_refresh()
    monkeypatch.setattr("cases.workspace.revision.timezone.localdate", lambda: today)
    context = revision._norm_panel_context(ServiceNorm.objects.get(code="TEL-25SEC"))
    months = {row.period: row for row in context["months"]}
    quarters = {row.period: row for row in context["quarters"]}
    return months["2025-04"].complaints, months["2025-05"].complaints, quarters["2025-Q2"].complaints


def test_panel_protects_a_small_month_in_the_quarter_still_running(norms, monkeypatch):
    # Seen on 15 May 2025: June lies in the future, so Q2 = April + May exactly, and 5 − 3 would give
    # May's 2 away. The quarter counts as whole once its months reach the page's end: a neighbour is hidden.
    april, may, q2 = april_and_may_on_the_panel(monkeypatch, D(2025, 5, 15))
    assert may.small  # 2 is shown as <3
    assert april.suppressed or q2.suppressed, f"Q2 {q2} − April {april} gives May away"


def test_panel_protects_a_small_month_in_a_finished_quarter(norms, monkeypatch):
    # The same counts seen on 15 July 2025, when Q2 is over.
    april, _may, q2 = april_and_may_on_the_panel(monkeypatch, D(2025, 7, 15))
    assert april.suppressed or q2.suppressed


# --- terms that came out right (controls) --------------------------------------------------------------


def test_weekend_receipt_whit_monday_and_answer_on_the_due_day(municipality, settings):
    settings.HANDVEST_SMALL_CELL = 1
    # Saturday 7 June 2025; Whit Monday 9 June is no working day: 4 working days → Friday 13 June.
    # 6 weeks → Saturday 19 July, rolled forward (Atw art. 1) to Monday 21 July.
    case = build_case(received_on=D(2025, 6, 7), acknowledged=at(D(2025, 6, 13), 23, 55), answered=at(D(2025, 7, 21), 23, 30))
    assert (case.acknowledgement_due, case.answer_due) == (D(2025, 6, 13), D(2025, 7, 21))
    rollup_refresh()
    fact = CaseFact.objects.get(case=case)
    assert (fact.acknowledged_on, fact.handled_on, fact.handling_days) == (D(2025, 6, 13), D(2025, 7, 21), 44)
    figures = compliance_figures(start=D(2025, 6, 1), end=D(2025, 7, 1), as_of=D(2025, 12, 31))
    assert (figures.acknowledgement_on_time.part, figures.acknowledgement_on_time.whole) == (1, 1)
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (1, 1)


def test_a_closing_day_moves_the_acknowledgement_term(municipality, settings):
    settings.HANDVEST_CLOSING_DAYS = "2025-05-30"  # the Friday after Ascension Day
    # Received Tuesday 27 May 2025: Wed 28 (1), Ascension 29 (holiday), Fri 30 (closed), Mon 2 June (2),
    # Tue 3 (3), Wed 4 June (4).
    case = build_case(received_on=D(2025, 5, 27))
    assert case.acknowledgement_due == D(2025, 6, 4)


def test_a_case_received_on_31_december_counts_in_that_year(municipality, settings):
    settings.HANDVEST_SMALL_CELL = 1
    build_case(received_on=D(2025, 12, 31))
    build_case(received_on=D(2026, 1, 1))
    rollup_refresh()
    assert compliance_figures(start=D(2025, 1, 1), end=D(2026, 1, 1), as_of=D(2026, 2, 1)).received.count == 1
