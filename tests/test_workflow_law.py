"""Legal (Awb chapter 9) and calendar (Algemene termijnenwet) correctness of case handling, as found by
the legal review of stop 31: each test failed before its fix."""

import datetime
import zoneinfo
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, CaseState, LetterKind, OutboxStatus, OutgoingMessage
from cases.workflow.deadline_scan import deadline_scan
from cases.workflow.handling import case_merge
from cases.workflow.transitions import case_transition, case_waive_hearing
from tests.factories import CaseFactory, duplicate_of, officer

pytestmark = pytest.mark.django_db

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


# --- Awb 9:12 lid 2: the answer step goes only with the answer letter ------------------------------------
def test_answer_step_cannot_be_sent_with_a_letter_of_another_kind(officer_client, municipality, handler):
    """The answer step goes out only with the answer letter, whose checks hold findings and the ombudsman (Awb 9:12):
    the composer's step and letter kind must belong together."""
    case = CaseFactory(explained=True, actor=handler)  # heard, and the hearing's report made
    data = {
        "action": "send",
        "kind": "other",
        "step": "answer",
        "expected_state": case.state,
        "subject": "Uw klacht",
        "body_text": "Beste mevrouw, uw klacht is afgehandeld.",
    }
    officer_client.post(reverse("handvest_workspace:compose", args=[case.pk]), data)
    case.refresh_from_db()
    # Either the step is refused, or it went with a real answer letter (which names the ombudsman).
    assert case.state != CaseState.ANSWERED or OutgoingMessage.objects.filter(case=case, kind=LetterKind.ANSWER).exists()


# --- Atw art. 1 for the four weeks of Awb 9:8 lid 3 ------------------------------------------------------
def test_decline_term_of_four_weeks_is_extended_by_the_algemene_termijnenwet(municipality):
    """Received on Saturday 7 March 2026 (web form): four weeks end Saturday 4 April, so by Atw art. 1 the term
    runs until Tuesday 7 April (Easter Sunday and Monday in between). A decline on 7 April is in time."""
    case = CaseFactory(received_on=date(2026, 3, 7))
    assert case.decline_due == date(2026, 4, 7)
    assert not case.decline_is_late(today=date(2026, 4, 7))


def test_decline_on_the_last_day_of_an_atw_extended_term_is_not_logged_late(municipality, monkeypatch):
    """The same in the workflow: the transition records a decline on the last lawful day as 'late'."""
    case = CaseFactory(received_on=date(2026, 4, 16))  # + 4 weeks = Thu 14 May 2026, Hemelvaartsdag -> Fri 15 May
    from django.utils import timezone

    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: real(value, timezone) if value is not None else date(2026, 5, 15))
    case_transition(case_id=case.pk, name="decline", ground="9:8-1a", actor=officer())
    event = CaseEvent.objects.get(case=case, name="decline")
    assert "late" not in event.data


# --- Merging keeps the date of receipt of the complaint (Awb 9:11 lid 1) ------------------------------
def test_merging_the_first_complaint_into_its_later_duplicate_does_not_postpone_the_answer(municipality):
    """The complainant sent the same complaint twice; merging the first (received 1 Oct) into the second (received
    20 Oct) keeps the first's answer term (Awb 9:11 lid 1 counts from receipt), so after 12 Nov the matter shows
    as overdue."""
    first = CaseFactory(acknowledged=True, received_on=date(2026, 10, 1))
    second = duplicate_of(first, acknowledged=True, received_on=date(2026, 10, 20))
    assert first.answer_due == date(2026, 11, 12)
    case_merge(case_id=first.pk, into_number=second.registration.number, actor=officer())
    second.refresh_from_db()
    assert second.answer_due == date(2026, 11, 12)
    assert "De termijn van" in CaseEvent.objects.get(case=second, name="merged_from").note
    scan = deadline_scan(today=date(2026, 11, 13))
    assert [item.number for item in scan.overdue] == [second.registration.number]


# --- Awb 9:10 lid 2a: not hearing because 'kennelijk ongegrond' excludes a 'gegrond' outcome ------------
@pytest.mark.parametrize("outcome", ["gegrond", "deels_gegrond"])
def test_hearing_waived_as_manifestly_unfounded_cannot_end_well_founded(municipality, outcome):
    case = CaseFactory(in_treatment=True)
    actor = officer()
    case_waive_hearing(case_id=case.pk, ground="kennelijk_ongegrond", reason="de klacht is kennelijk ongegrond", actor=actor)
    case_transition(case_id=case.pk, name="answer", actor=actor)
    with pytest.raises((ValidationError, WorkflowError)):
        case_transition(case_id=case.pk, name="close", outcome=outcome, actor=actor)


# --- Dates in Europe/Amsterdam, not UTC ---------------------------------------------------------------
def test_failed_letter_in_the_digest_is_dated_in_local_time(municipality):
    case = CaseFactory(acknowledged=True, received_on=date(2026, 3, 2))
    created = datetime.datetime(2026, 3, 10, 0, 30, tzinfo=AMSTERDAM)  # 9 March 23:30 UTC
    OutgoingMessage.objects.create(
        case=case, kind=LetterKind.OTHER, channel="email", dedupe_key="rv-law-failed", subject="x", body_text="x",
        status=OutboxStatus.FAILED, last_error="bounce", created_at=created, message_id="<rv@x>",
    )
    scan = deadline_scan(today=date(2026, 3, 11))
    assert [item.due for item in scan.failed_letters] == [date(2026, 3, 10)]


def test_decline_step_cannot_be_sent_with_a_letter_of_another_kind(officer_client, municipality, handler):
    """The same for not handling a complaint (Awb 9:8 lid 3): the step goes only with the decline letter, which names
    the ground."""
    case = CaseFactory(acknowledged=True, actor=handler)
    data = {
        "action": "send",
        "kind": "other",
        "step": "decline",
        "ground": "9:8-1a",
        "expected_state": case.state,
        "subject": "Uw klacht",
        "body_text": "Beste mevrouw, wij doen niets met uw klacht.",
    }
    officer_client.post(reverse("handvest_workspace:compose", args=[case.pk]), data)
    case.refresh_from_db()
    assert case.state != CaseState.CLOSED or OutgoingMessage.objects.filter(case=case, kind=LetterKind.DECLINE).exists()


# --- Awb 9:12 lid 2: the answer names the ombudsman the complainant can actually go to ---------------------
def test_answer_naming_the_nationale_ombudsman_is_refused_when_the_municipality_has_its_own(municipality):
    from cases.correspondence.composing import letter_compose
    from cases.correspondence.steps import case_step_with_letter
    from cases.models import OmbudsmanSettings

    settings = OmbudsmanSettings.load()
    settings.ombudsman = "municipal"
    settings.own_name = "de Ombudsman Harlingen"
    settings.save()
    from cms.kept import forget

    forget()
    case = CaseFactory(explained=True)
    own = letter_compose(case=case, kind="answer", findings="Nagekeken.", judgement="Gegrond.", conclusions="Excuses.").body_text
    assert "de Ombudsman Harlingen" in own
    wrong = own.replace("de Ombudsman Harlingen", "de Nationale ombudsman")
    with pytest.raises(ValidationError):
        case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject="Antwoord op uw klacht", body_text=wrong, actor=officer())
    assert Case.objects.get(pk=case.pk).state == CaseState.EXPLAINED


# --- Awb 9:12: once answered, the judgement stands; 'withdrawn' would overwrite what the register says ------
def test_an_answered_complaint_cannot_be_recorded_as_withdrawn(municipality):
    case = CaseFactory(answered=True)
    with pytest.raises((WorkflowError, ValidationError)):
        case_transition(case_id=case.pk, name="withdraw", actor=officer())
    assert Case.objects.get(pk=case.pk).outcome != "ingetrokken"
