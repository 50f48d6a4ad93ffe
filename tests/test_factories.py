"""The factories build what their traits say, through the real services."""

import pytest

from cases.models import CaseEvent, CaseState, EventKind, IntakeChannel, Kind
from tests.factories import COMPLAINT_STEPS, SUGGESTION_STEPS, CaseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", [state for state in COMPLAINT_STEPS if state != CaseState.RECEIVED])
def test_a_complaint_trait_walks_the_real_transitions_to_its_state(municipality, state):
    case = CaseFactory(**{state: True})
    assert (case.kind, case.state) == (Kind.COMPLAINT, state)
    steps = list(CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).values_list("name", flat=True))
    assert steps == COMPLAINT_STEPS[state]


@pytest.mark.parametrize("state", [state for state in SUGGESTION_STEPS if state != CaseState.RECEIVED])
def test_a_suggestion_trait_walks_the_suggestion_workflow(municipality, state):
    case = CaseFactory(suggestion=True, **{state: True})
    assert (case.kind, case.state) == (Kind.SUGGESTION, state)


def test_a_case_by_post_came_as_a_letter_without_an_e_mail_address(municipality):
    case = CaseFactory(answered=True, channel="post")
    assert case.registration.channel == IntakeChannel.LETTER
    assert case.registration.sender_email == "" and case.registration.sender_address
    assert case.state == CaseState.ANSWERED


def test_building_without_registering_is_refused():
    with pytest.raises(NotImplementedError):
        CaseFactory.build()
