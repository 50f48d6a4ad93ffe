import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import errors
from cases.errors import CaseConflict, WorkflowError
from cases.models import Case, CaseEvent, CaseState
from cases.workflow.deadlines import deadline_status
from cases.workflow.handling import case_add_note
from cases.workflow.transitions import allowed_transitions, case_extend, case_transition
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


def step(case, name, **params):
    return case_transition(case_id=case.pk, name=name, actor=officer(), **params)


def assert_unchanged(case):
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == case.state
    assert CaseEvent.objects.filter(case=case).count() == case.events.count()


# --- the complaint path ------------------------------------------------------------------
def test_full_complaint_path_is_logged_in_order(municipality):
    case = CaseFactory(closed=True)
    names = list(case.events.filter(kind="transition").values_list("name", flat=True))
    assert names == ["acknowledge", "start_treatment", "schedule_hearing", "explain", "answer", "close"]
    assert case.state == CaseState.CLOSED and case.outcome == "gegrond"
    last = case.events.filter(kind="transition").last()
    assert (last.from_state, last.to_state) == ("answered", "closed")


@pytest.mark.parametrize(
    ("start", "name", "params", "target"),
    [
        ("received", "acknowledge", {}, "acknowledged"),
        ("received", "resolve_informally", {}, "closed"),
        ("acknowledged", "resolve_informally", {}, "closed"),
        ("received", "forward", {"to": "Waterschap Fryslân"}, "closed"),
        ("acknowledged", "decline", {"ground": "9:8-1b"}, "closed"),
        ("in_treatment", "schedule_hearing", {"on": datetime.date.today()}, "hearing"),
        ("in_treatment", "explain", {}, "explained"),
        ("hearing", "explain", {}, "explained"),
        ("hearing", "answer", {}, "answered"),
        ("explained", "answer", {}, "answered"),
        # Awb 9:5 and 9:10 after an explanation: satisfied (closed without an answer letter), or heard after all.
        ("explained", "resolve_informally", {}, "closed"),
        ("explained", "schedule_hearing", {"on": datetime.date.today()}, "hearing"),
        ("in_treatment", "resolve_informally", {}, "closed"),
        ("answered", "close", {"outcome": "deels_gegrond"}, "closed"),
        ("received", "withdraw", {}, "closed"),
        ("hearing", "withdraw", {}, "closed"),
    ],
)
def test_allowed_complaint_transition(municipality, start, name, params, target):
    case = CaseFactory(state=start)
    case = step(case, name, **params)
    assert case.state == target
    assert case.events.last().name == name


@pytest.mark.parametrize(
    ("start", "name", "params"),
    [
        ("received", "start_treatment", {"officer": None}),
        ("received", "answer", {}),
        ("acknowledged", "acknowledge", {}),
        ("in_treatment", "close", {"outcome": "gegrond"}),
        ("hearing", "schedule_hearing", {"on": datetime.date(2026, 12, 1)}),
        ("answered", "resolve_informally", {}),
        ("answered", "explain", {}),
        ("closed", "withdraw", {}),
        ("closed", "answer", {}),
        ("in_treatment", "forward", {"to": "Provincie"}),
        ("acknowledged", "respond", {"outcome": "adopted"}),
    ],
)
def test_forbidden_complaint_transition_raises_and_leaves_case_as_it_was(municipality, start, name, params):
    case = CaseFactory(state=start)
    events = case.events.count()
    if name == "start_treatment":
        params = {"officer": officer()}
    with pytest.raises(WorkflowError) as excinfo:
        step(case, name, **params)
    assert "kan nu niet" in str(excinfo.value)
    assert Case.objects.get(pk=case.pk).state == start
    assert case.events.count() == events


def test_cannot_answer_without_hearing_or_a_recorded_waiver(municipality):
    case = CaseFactory(in_treatment=True)
    with pytest.raises(WorkflowError):
        step(case, "answer")
    assert Case.objects.get(pk=case.pk).state == "in_treatment"


def test_close_needs_a_valid_outcome(municipality):
    case = CaseFactory(answered=True)
    with pytest.raises(ValidationError):
        step(case, "close", outcome="prima")
    assert Case.objects.get(pk=case.pk).state == "answered"


def test_decline_needs_an_awb_9_8_ground(municipality):
    case = CaseFactory(acknowledged=True)
    with pytest.raises(ValidationError):
        step(case, "decline", ground="zin_in")
    case = step(case, "decline", ground="9:8-1a")
    assert case.decline_ground == "9:8-1a" and case.outcome == "niet_behandeld"


def test_unknown_transition_name_is_refused(municipality):
    case = CaseFactory()
    with pytest.raises(WorkflowError, match="Onbekende stap"):
        step(case, "delete")


# --- suggestions --------------------------------------------------------------------------
def test_suggestion_path(municipality):
    case = CaseFactory(suggestion=True)
    case = step(case, "acknowledge")
    case = step(case, "consider", officer=officer())
    case = step(case, "respond", outcome="next_revision")
    case = step(case, "close_suggestion")
    assert case.state == "closed" and case.outcome == "next_revision"


@pytest.mark.parametrize("name", ["start_treatment", "decline", "resolve_informally"])
def test_complaint_only_steps_are_not_allowed_on_a_suggestion(municipality, name):
    case = CaseFactory(suggestion=True, acknowledged=True)
    params = {"start_treatment": {"officer": officer()}, "decline": {"ground": "9:8-1a"}}.get(name, {})
    with pytest.raises(WorkflowError):
        step(case, name, **params)


# --- permissions and concurrency ------------------------------------------------------------
def test_an_editor_may_not_move_a_case(municipality):
    case = CaseFactory()
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied):
        case_transition(case_id=case.pk, name="acknowledge", actor=editor)
    assert Case.objects.get(pk=case.pk).state == "received"


def test_second_officer_acting_on_a_stale_view_gets_a_conflict(municipality):
    case = CaseFactory()
    step(case, "acknowledge")
    with pytest.raises(CaseConflict) as excinfo:
        case_transition(case_id=case.pk, name="resolve_informally", actor=officer("tweede"), expected_state="received")
    assert "collega" in str(excinfo.value)
    assert Case.objects.get(pk=case.pk).state == "acknowledged"


def test_allowed_transitions_are_only_those_possible_now(municipality):
    case = CaseFactory(acknowledged=True)
    assert allowed_transitions(case, officer()) == ["resolve_informally", "forward", "decline", "start_treatment", "withdraw"]
    assert allowed_transitions(case, UserFactory(username="iemand")) == []


# --- extension (Awb 9:11 lid 2) ------------------------------------------------------------
@pytest.fixture
def mid_september(monkeypatch):
    """Today is 15 September 2026: the answer term of a case received on 1 September still runs."""
    from django.utils import timezone

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return real(value, timezone) if value is not None else datetime.date(2026, 9, 15)

    monkeypatch.setattr(timezone, "localdate", localdate)


def test_extension_moves_the_answer_deadline_once(municipality, mid_september):
    case = CaseFactory(in_treatment=True, received_on=datetime.date(2026, 9, 1))
    assert case.answer_due == datetime.date(2026, 10, 13)
    case = case_extend(case_id=case.pk, new_due=datetime.date(2026, 11, 2), reason="Wij wachten op informatie van de aannemer.", actor=officer())
    assert case.extended_answer_due == datetime.date(2026, 11, 2)
    assert case.next_deadline() == ("answer", datetime.date(2026, 11, 2))
    with pytest.raises(WorkflowError, match=str(errors.EXTENSION_TWICE)[:30]):
        case_extend(case_id=case.pk, new_due=datetime.date(2026, 11, 5), reason="nog langer", actor=officer())


def test_extension_by_more_than_four_weeks_is_refused(municipality, mid_september):
    case = CaseFactory(acknowledged=True, received_on=datetime.date(2026, 9, 1))
    with pytest.raises(ValidationError, match="vier weken"):
        case_extend(case_id=case.pk, new_due=datetime.date(2026, 11, 11), reason="drukte", actor=officer())
    assert Case.objects.get(pk=case.pk).extended_answer_due is None


def test_extension_needs_a_reason(municipality):
    case = CaseFactory(acknowledged=True)
    with pytest.raises(ValidationError):
        case_extend(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(days=7), reason=" ", actor=officer())


def test_extension_is_refused_once_the_answer_term_has_run_out(municipality):
    """Awb 9:11 lid 2: the term is extended while it runs; afterwards the case is late, and the figures say so."""
    case = CaseFactory(in_treatment=True, received_on=timezone.localdate() - datetime.timedelta(weeks=8))
    assert case.answer_due < timezone.localdate() and not case.is_extendable()
    with pytest.raises(WorkflowError, match="liep af op"):
        case_extend(case_id=case.pk, new_due=timezone.localdate() + datetime.timedelta(days=7), reason="drukte", actor=officer())
    assert Case.objects.get(pk=case.pk).extended_answer_due is None


def test_extension_is_refused_on_an_answered_case(municipality):
    case = CaseFactory(answered=True)
    with pytest.raises(WorkflowError):
        case_extend(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(days=7), reason="x", actor=officer())


# --- deadlines and timeline ------------------------------------------------------------------
def test_next_deadline_follows_the_state(municipality):
    received = CaseFactory(received_on=datetime.date(2026, 11, 2))
    assert received.next_deadline() == ("acknowledgement", received.acknowledgement_due)
    treated = CaseFactory(in_treatment=True)
    assert treated.next_deadline()[0] == "answer"
    assert CaseFactory(closed=True).next_deadline() is None


def test_deadline_status_soon_and_overdue(municipality):
    case = CaseFactory(received_on=datetime.date(2026, 11, 2))  # acknowledgement due Fri 6 Nov 2026
    assert deadline_status(case, today=datetime.date(2026, 11, 2)) == "soon"
    assert deadline_status(case, today=datetime.date(2026, 11, 9)) == "overdue"
    answer_case = CaseFactory(acknowledged=True, received_on=datetime.date(2026, 11, 2))
    assert deadline_status(answer_case, today=datetime.date(2026, 11, 3)) == "ok"


def test_timeline_cannot_be_edited_or_deleted(municipality):
    case = CaseFactory()
    event = case.events.first()
    event.note = "gewijzigd"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        CaseEvent.objects.filter(case=case).update(note="x")
    with pytest.raises(PermissionDenied):
        CaseEvent.objects.filter(case=case).delete()


def test_internal_note_is_on_the_timeline(municipality):
    case = CaseFactory()
    case_add_note(case_id=case.pk, text="Mevrouw belde nog even.", actor=officer())
    assert case.events.filter(kind="note", internal=True).count() == 1
