"""Edge cases a review of December 5's changes found: secondary suppression through a hidden total,
holds only the officers lift, the first handling of a reopened case, a report for a case heard before
reports were kept, the same report sent twice, a short addition that occurs inside the answer."""


import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.conversation.questions import question_answer, question_ask, question_reply_web
from cases.errors import CaseConflict
from cases.models import Case, CaseEvent, CaseRecord, CaseState, EventKind, RecordHold
from cases.records import retention
from cases.reporting.aggregates import NormPeriodFigures, protect_series
from cases.reporting.figures import Figure
from cases.reporting.rollup import rollup_refresh
from cases.workflow.transitions import case_record_hearing, locked_case, report_fingerprint
from tests.factories import CaseFactory, officer
from tests.test_aggregates_data import D, at, build_case

pytestmark = pytest.mark.django_db


# --- 1. Secondary suppression: a hidden quarter is the sum of its months, all shown ---------------------


def _row(period: str, complaints: int, threshold: int = 5) -> NormPeriodFigures:
    def fig(n: int) -> Figure:
        return Figure(n, threshold)

    return NormPeriodFigures(
        period=period, label=period, complaints=fig(complaints), suggestions=fig(0), unconfirmed=fig(0),
        previous_complaints=fig(0), previous_suggestions=fig(0),
    )


def test_secondary_suppression_does_not_hide_a_quarter_whose_months_give_it_away():
    # A norm's panel for 2025: months, quarters and the year on one page (threshold 5).
    # Q1 = 4 (small, primary suppressed). The year (100) minus Q2..Q4 would give it, so protect_groups
    # hides the smallest shown quarter, Q2 (30). But Q2 is the "whole" of its own group (Apr+May+Jun,
    # 10+10+10, all shown), and _pinned() returns False as soon as the whole is suppressed: nothing
    # there is hidden. So Q2 = 10+10+10 = 30 is on the page anyway and Q1 = 100 - 30 - 30 - 36 = 4.
    # Expected: once Q2 is hidden, at least one of its months is hidden too (or another quarter),
    # so no small count can be worked out by subtraction. Actual: Q1's 4 is recoverable.
    months = [_row(f"2025-{m:02d}", n) for m, n in zip(range(1, 13), [2, 1, 1, 10, 10, 10, 10, 10, 10, 12, 12, 12], strict=True)]
    quarters = [_row("2025-Q1", 4), _row("2025-Q2", 30), _row("2025-Q3", 30), _row("2025-Q4", 36)]
    years = [_row("2025", 100)]
    protect_series(months, quarters, years)

    def known(figure: Figure) -> bool:
        return not figure.suppressed

    by_key = {row.period: row.complaints for row in months + quarters + years}
    q2_months = [by_key["2025-04"], by_key["2025-05"], by_key["2025-06"]]
    q2_recoverable = known(by_key["2025-Q2"]) or all(known(m) for m in q2_months)
    others_known = known(by_key["2025"]) and known(by_key["2025-Q3"]) and known(by_key["2025-Q4"])
    assert not (q2_recoverable and others_known), "Q1 (4) = year - Q2 (sum of its shown months) - Q3 - Q4"


# --- 2. The archivist lifts a hold that is the officers' (the Nationale ombudsman) ----------------------


def test_the_archivist_cannot_lift_the_ombudsman_hold(client, municipality, archivist):
    # The change lets the archivist lift "a hold, such as the one their exclusion set", but the commit
    # says "result type, ombudsman and new holds stay with the officers". record_lift_hold and
    # case_archive_action accept any hold from the archivist, including the Nationale ombudsman's
    # (RecordHold.OMBUDSMAN, set by record_ombudsman, which the archivist may not do). The archivist,
    # who also approves destruction lists, can thus free a case under ombudsman review for destruction.
    # Expected: refused (403 or an error), hold still OMBUDSMAN. Actual: the hold is lifted.
    case = CaseFactory(closed=True)
    retention.record_ombudsman(case_id=case.pk, on=timezone.localdate(), note="dossier 2031/0042", actor=officer())
    client.force_login(archivist)
    client.post(reverse("handvest_records:case_action", args=[case.pk, "opheffen"]), {"reason": "lijst opgeschoond"})
    assert CaseRecord.objects.get(case=case).hold == RecordHold.OMBUDSMAN


# --- 3. Figures: a decision, then reopened and answered: the first handling is lost ---------------------


def test_first_decision_stays_the_handling_when_the_reopened_case_is_answered(municipality, settings):
    # 56f41cb: "a case ended by a decision keeps that first handling when reopened" (handled_on from the
    # first resolve_informally/forward/decline event). But rollup.fact_queryset checks answered_at FIRST:
    # reopened and then answered, handled_on becomes the later answer's day, not the decision's.
    # Expected: handled_on 5 March 2025 (resolved informally two days after receipt). Actual: 20 May 2025,
    # which makes a timely first handling count as late (six weeks) and as 78 days' handling.
    settings.HANDVEST_SMALL_CELL = 1
    case = build_case(received_on=D(2025, 3, 3), closed=at(D(2025, 3, 5)), outcome="informeel_opgelost")
    CaseEvent.objects.create(case=case, kind=EventKind.TRANSITION, name="resolve_informally", from_state="received", to_state="closed", at=at(D(2025, 3, 5)))
    with transaction.atomic():
        from cases.conversation.reopening import _reopen

        _reopen(locked_case(case.pk), None, "De indiener was niet tevreden.")
    Case.objects.filter(pk=case.pk).update(state="answered", answered_at=at(D(2025, 5, 20)))
    rollup_refresh()
    case.refresh_from_db()
    assert case.fact.handled_on == D(2025, 3, 5)


# --- 4. The hearing-report guard: a reopened case with a hearing before the change ----------------------


def test_a_reopened_case_heard_before_the_change_can_get_its_report(municipality):
    # Cases heard before migration 0026 have hearing_on in the past and no hearing_report. Reopened, such
    # a complaint is in IN_TREATMENT: Case.answer now needs the report (hearing_done_or_waived), a waiver
    # is impossible (hearing_waivable needs hearing_on None), and hearing_reportable() only allows
    # HEARING/EXPLAINED, so case_record_hearing refuses and the case page shows no report form.
    # Expected: the report can be recorded (the hearing was held). Actual: WorkflowError, the answer is
    # blocked unless the officer invents a new hearing or an "explanation" step.
    actor = officer()
    case = CaseFactory(closed=True, actor=actor)
    Case.objects.filter(pk=case.pk).update(hearing_on=D(2024, 1, 10), hearing_report="")  # data from before 0026
    with transaction.atomic():
        from cases.conversation.reopening import _reopen

        _reopen(locked_case(case.pk), None, "De indiener was niet tevreden.")
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert not case.hearing_done_or_waived()
    case_record_hearing(case_id=case.pk, report="Gesproken op 10 januari 2024; de indiener lichtte toe.", actor=actor)
    case.refresh_from_db()
    assert case.hearing_done_or_waived()


# --- 5. The hearing report's stale-tab check blames the officer's own resubmission on a colleague --------


def test_the_same_report_sent_twice_is_not_a_colleagues_change(municipality):
    # The transition step recognises "the second click of a double click" (_just_taken), the report does
    # not: the same text posted again with the fingerprint the page showed (a second click, a resend after
    # Back) raises CaseConflict "Een collega heeft het verslag ... gewijzigd" and keeps a draft.
    # Expected: identical text is a no-op (or accepted). Actual: CaseConflict.
    actor = officer()
    case = CaseFactory(hearing=True, actor=actor)
    Case.objects.filter(pk=case.pk).update(hearing_report="")
    seen = report_fingerprint("")
    text = "De indiener vertelde wat er aan de balie gebeurde."
    case_record_hearing(case_id=case.pk, report=text, actor=actor, expected_state="hearing", seen_report=seen)
    try:
        case_record_hearing(case_id=case.pk, report=text, actor=actor, expected_state="hearing", seen_report=seen)
    except CaseConflict as exc:  # pragma: no cover - the finding
        pytest.fail(f"own identical resubmission refused as a colleague's change: {exc}")


# --- 6. The private page's addition: dropped when it is part of the earlier answer ----------------------


def test_an_addition_that_occurs_inside_the_earlier_answer_is_kept(municipality):
    # _addition_keep treats "text in question.answer_text" (a substring test) as "the same text sent
    # twice". A later, different reply that happens to be part of the first answer is dropped silently,
    # while the page says "Wij hebben uw antwoord ontvangen". Expected: only the same text again is kept
    # once; "Nee" after "Nee, ik heb geen foto. Ik kan wel langskomen." is a new message and is kept.
    case = CaseFactory(in_treatment=True)
    question = question_ask(case_id=case.pk, text="Heeft u een foto, en kunt u langskomen?", actor=officer())
    question_answer(case_id=case.pk, question_id=question.pk, text="Nee, ik heb geen foto. Ik kan wel langskomen.")
    added = question_reply_web(case_id=case.pk, question_id=question.pk, text="Nee")
    question.refresh_from_db()
    assert added is True
    assert question.answer_text.rstrip().endswith("Nee") and question.answer_text.count("Nee") == 2
