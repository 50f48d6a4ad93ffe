"""Our own compliance figures, on hand-built cases with known answers (tests/test_aggregates_data.py)."""

import datetime

import pytest

from cases.models import Case, CaseFact, OutgoingMessage
from cases.reporting.compliance import Share, compliance_figures, percentile
from cases.reporting.rollup import rollup_refresh
from tests.test_aggregates_data import AS_OF, D, at, build_case, build_compliance_cases  # noqa: F401

pytestmark = pytest.mark.django_db

YEAR_2025 = {"start": D(2025, 1, 1), "end": D(2026, 1, 1)}


@pytest.fixture
def cases(municipality):
    return build_compliance_cases()


def test_the_deadlines_of_the_hand_built_cases_follow_the_working_day_calendar(cases):
    assert cases["c1"].acknowledgement_due == D(2025, 4, 24)  # Good Friday and Easter Monday skipped
    assert cases["c3"].answer_due == D(2025, 5, 30)  # Ascension Day rolls forward
    assert cases["c4"].acknowledgement_due == D(2025, 5, 7)  # 5 May is a holiday every year
    assert cases["c9"].acknowledgement_due == D(2025, 12, 30)  # both Christmas days skipped
    assert cases["c10"].acknowledgement_due == D(2026, 1, 5)  # New Year's Day skipped


def test_acknowledgements_within_four_working_days(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # due: c1 c2 c3 c4 c5 c7 c8 c9 s1 (c6 answered at once, c10 not yet due); on time: c1 c3 c4 c7 c8 s1
    assert (figures.acknowledgement_on_time.part, figures.acknowledgement_on_time.whole) == (6, 9)
    assert figures.acknowledgement_on_time.percent == 66.6  # rounded down: never more than was reached
    assert figures.acknowledgement_not_needed.count == 1


def test_an_acknowledgement_is_unneeded_only_from_the_day_the_case_was_answered(municipality):
    # Received 16 April 2025, due 24 April; answered on the 23rd without an acknowledgement.
    build_case(received_on=D(2025, 4, 16), answered=at(D(2025, 4, 23)))
    rollup_refresh()
    april = {"start": D(2025, 4, 1), "end": D(2025, 5, 1)}
    assert compliance_figures(**april, as_of=D(2025, 4, 22)).acknowledgement_not_needed.count == 0  # not answered yet on the 22nd
    after = compliance_figures(**april, as_of=D(2025, 4, 23))
    assert after.acknowledgement_not_needed.count == 1
    assert after.acknowledgement_on_time.whole == 0


def test_an_acknowledgement_late_in_the_evening_of_the_last_day_is_on_time_in_local_time(cases):
    facts = {fact.case_id: fact for fact in CaseFact.objects.all()}
    assert facts[cases["c1"].pk].acknowledged_on == D(2025, 4, 24)  # 23:30 in Amsterdam is 21:30 UTC
    assert facts[cases["c2"].pk].acknowledged_on == D(2025, 4, 25)  # 00:30 in Amsterdam is still the 24th in UTC


def test_the_acknowledgement_letter_counts_from_the_day_it_left(municipality):
    case = build_case(received_on=D(2025, 4, 16), acknowledged=at(D(2025, 4, 23)))
    OutgoingMessage.objects.create(
        case=case,
        kind="acknowledgement",
        channel="post",
        status="posted",
        dedupe_key=f"ack-{case.pk}",
        subject="Ontvangstbevestiging",
        body_text="…",
        message_id=f"<ack-{case.pk}@test>",
        printed_at=at(D(2025, 4, 22)),
        posted_at=at(D(2025, 4, 28)),  # printed in time, but only posted after the term: late
    )
    rollup_refresh()
    figures = compliance_figures(start=D(2025, 4, 1), end=D(2025, 5, 1), as_of=AS_OF)
    assert (figures.acknowledgement_on_time.part, figures.acknowledgement_on_time.whole) == (0, 1)


def test_a_queued_acknowledgement_letter_does_not_count_as_sent(municipality):
    case = build_case(received_on=D(2025, 4, 16), acknowledged=at(D(2025, 4, 23)))
    OutgoingMessage.objects.create(
        case=case, kind="acknowledgement", channel="email", status="queued", dedupe_key="q", subject="s", body_text="b", message_id="<q@test>"
    )
    rollup_refresh()
    assert CaseFact.objects.get(case=case).acknowledged_on == D(2025, 4, 23)


def test_answers_within_six_weeks(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # due: handled c1 c2 c3 c4 c5 c6 s1, and open c8 past its term; c7 withdrawn; within: c1 c2 c3 c6 s1
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (5, 8)
    assert figures.answer_within_six_weeks.percent == 62.5


def test_answers_within_the_extended_term(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # c4 was answered after six weeks but within its extended term; c5 after its extended term.
    assert (figures.answer_within_term.part, figures.answer_within_term.whole) == (6, 8)
    assert figures.answer_within_term.percent == 75.0


def test_interim_notices_when_needed(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # needed: c4 (extended in time), c5 (extended after the term had passed), c8 (open, no notice)
    assert (figures.interim_notice_in_time.part, figures.interim_notice_in_time.whole) == (1, 3)


def test_handling_time_median_and_90th_percentile(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    # days: c6 2, s1 14, c1 34, c2 42, c3 43, c4 62, c5 73
    assert figures.handling.handled.count == 7
    assert figures.handling.median == 42
    assert figures.handling.p90 == 66.4  # 62 + 0.4 × (73 − 62)
    assert [(label, figure.count) for label, figure in figures.handling.buckets] == [
        ("0-7", 1),
        ("8-14", 1),
        ("15-28", 0),
        ("29-42", 2),
        ("43-70", 2),
        ("71+", 1),
    ]


def test_complaints_alone_have_their_own_median(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF, kinds=["complaint"])
    assert figures.handling.handled.count == 6
    assert figures.handling.median == 42.5
    assert figures.handling.p90 == 67.5


def test_outcomes_of_closed_cases(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    counts = {outcome: figure.count for outcome, figure in figures.outcomes.items() if figure.count}
    assert counts == {"gegrond": 2, "ongegrond": 1, "deels_gegrond": 1, "geen_oordeel": 1, "informeel_opgelost": 1, "ingetrokken": 1, "adopted": 1}
    assert str(figures.outcomes["gegrond"]) == "<3"


def test_open_and_overdue_cases_as_of_the_reference_day(cases):
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert figures.received.count == 11  # the merged case is not counted
    assert figures.open_cases.count == 3
    assert figures.overdue_cases.count == 1


def test_an_earlier_reference_day_does_not_count_terms_that_had_not_passed(cases):
    figures = compliance_figures(**YEAR_2025, as_of=D(2025, 12, 30))
    # c9's acknowledgement is due on 30 December: not late yet on that day.
    assert figures.acknowledgement_on_time.whole == 8


def test_shares_and_handling_times_of_too_few_cases_are_not_shown(municipality):
    build_case(received_on=D(2025, 3, 3), acknowledged=at(D(2025, 3, 4)), answered=at(D(2025, 3, 10)), closed=at(D(2025, 3, 11)), outcome="gegrond")
    rollup_refresh()
    figures = compliance_figures(**YEAR_2025, as_of=AS_OF)
    assert figures.acknowledgement_on_time.percent is None
    assert str(figures.acknowledgement_on_time) == "—"
    assert str(figures.acknowledgement_on_time.whole_figure) == "<3"
    assert figures.handling.median is None and figures.handling.p90 is None


def test_share_shows_a_dutch_percentage_rounded_down():
    # Down: a percentage never shows more than was reached (999 of 1,000 is not 100,0%).
    assert str(Share(2, 3, 3)) == "—"  # the part is shown as <3: its percentage would give it away
    assert str(Share(2, 3, 1)) == "66,6%" and str(Share(0, 10, 3)) == "0,0%"
    assert (Share(2, 10, 3).percent, str(Share(2, 10, 3).part_figure)) == (None, "<3")
    assert str(Share(999, 1000, 3)) == "99,9%" and Share(999, 1000, 3).percent == 99.9
    assert str(Share(1000, 1000, 3)) == "100,0%"
    assert str(Share(0, 0, 3)) == "—"


def test_percentile_interpolates_like_percentile_cont():
    assert percentile({1: 1, 2: 1, 3: 1, 4: 1, 10: 1}, 0.5) == 3
    assert percentile({1: 1, 2: 1, 3: 1, 4: 1, 10: 1}, 0.9) == 7.6
    assert percentile({5: 4}, 0.9) == 5
    assert percentile({}, 0.5) is None


def test_nothing_received_gives_empty_figures(municipality):
    figures = compliance_figures(start=D(2020, 1, 1), end=D(2021, 1, 1), as_of=datetime.date(2025, 1, 1))
    assert figures.received.count == 0
    assert figures.answer_within_six_weeks.percent is None
    assert figures.handling.median is None


def test_an_extension_after_the_term_had_passed_does_not_make_a_late_answer_timely(municipality):
    """Awb 9:11 lid 2: the term is extended within the term. Extended a week after it ran out and answered
    within the new date, the answer was late, as the charter's own measure of the same promise says."""
    from cases.workflow.deadlines import case_deadlines

    due = case_deadlines(received_on=D(2025, 3, 3))["answer_due"]
    build_case(
        received_on=D(2025, 3, 3), acknowledged=at(D(2025, 3, 4)), extended_on=at(due + datetime.timedelta(days=7)),
        extended_to=due + datetime.timedelta(days=21), answered=at(due + datetime.timedelta(days=14)),
    )
    rollup_refresh()
    figures = compliance_figures(start=D(2025, 3, 1), end=D(2025, 4, 1), as_of=AS_OF)
    assert (figures.answer_within_term.part, figures.answer_within_term.whole) == (0, 1)
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (0, 1)


def test_the_figures_stand_as_they_were_on_the_day_of_reference(municipality):
    """The annual report of 2025 made with its day of reference 15 January 2026: a case answered on 20 January
    was still open then, and its handling time is not yet in the figures."""
    build_case(received_on=D(2025, 11, 3), acknowledged=at(D(2025, 11, 4)), answered=at(D(2026, 1, 20)))
    rollup_refresh()
    then = compliance_figures(start=D(2025, 11, 1), end=D(2025, 12, 1), as_of=D(2026, 1, 15))
    assert (then.open_cases.count, then.handling.handled.count, then.answer_within_six_weeks.part) == (1, 0, 0)
    later = compliance_figures(start=D(2025, 11, 1), end=D(2025, 12, 1), as_of=D(2026, 2, 1))
    assert (later.open_cases.count, later.handling.handled.count) == (0, 1)


def test_a_reopened_case_being_handled_again_counts_as_open(municipality):
    case = build_case(received_on=D(2025, 11, 3), acknowledged=at(D(2025, 11, 4)), answered=at(D(2025, 11, 20)))
    rollup_refresh()
    assert compliance_figures(start=D(2025, 11, 1), end=D(2025, 12, 1), as_of=D(2026, 1, 15)).open_cases.count == 0
    Case.objects.filter(pk=case.pk).update(state="in_treatment")  # reopened: its first answer stays
    rollup_refresh()
    figures = compliance_figures(start=D(2025, 11, 1), end=D(2025, 12, 1), as_of=D(2026, 1, 15))
    assert figures.open_cases.count == 1
    assert (figures.answer_within_six_weeks.part, figures.answer_within_six_weeks.whole) == (1, 1)  # the first answer was in time
