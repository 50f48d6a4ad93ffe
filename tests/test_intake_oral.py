"""Phone and counter: an officer registers what a citizen said; resolved at once closes it (Awb 9:5)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import errors
from cases.intake.forms import OralIntakeForm
from cases.intake.oral import (
    ORAL_CALLBACK_NEEDS_PHONE,
    ORAL_NO_CONTACT,
    ORAL_NO_PERMISSION,
    ORAL_RESOLVED_NO_CALLBACK,
    ORAL_RESOLVED_ONLY_COMPLAINT,
    ORAL_WRONG_CHANNEL,
    oral_intake,
)
from cases.models import Case, CaseEvent, ComplaintOutcome, Registration, ReplyChannel
from cases.signals import case_registered
from cases.workflow.registration import Sender
from cms.roles import EDITORS, MAILROOM, QUALITY_OFFICERS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALLER = Sender(name="Jan Bosma", phone="06 12345678")


@pytest.fixture
def officer(db):
    return UserFactory(username="kwaliteit", role=QUALITY_OFFICERS)


def take(actor, **overrides):
    arguments = {
        "channel": "phone",
        "kind": "complaint",
        "text": "Ik ben drie keer doorverbonden en niemand wist het antwoord.",
        "sender": CALLER,
        "resolved_at_once": False,
        "actor": actor,
    }
    arguments.update(overrides)
    return oral_intake(**arguments)


def test_a_phone_complaint_is_registered_with_channel_phone(municipality, officer):
    registration = take(officer)
    assert registration.channel == "phone" and registration.kind == "complaint"
    assert registration.registered_by == officer
    assert registration.reply_channel == ReplyChannel.PHONE  # only a phone number was given
    assert registration.case.state == "acknowledged"  # in the conversation: there is no address to write to


def test_a_suggestion_at_the_counter_is_registered_with_channel_counter(municipality, officer):
    registration = take(officer, channel="counter", kind="suggestion", text="Een nummertjesautomaat bij de balie.", sender=Sender(email="a@example.nl"))
    assert registration.channel == "counter" and registration.case.kind == "suggestion"
    assert registration.reply_channel == ReplyChannel.EMAIL


def test_a_callback_request_is_due_in_two_working_days(municipality, officer):
    # Thursday 2 April 2026: Good Friday and Easter Monday are no working days.
    registration = take(officer, callback_requested=True, received_on=datetime.date(2026, 4, 2))
    assert registration.case.callback_due == datetime.date(2026, 4, 8)


def test_without_a_callback_request_there_is_no_callback_deadline(municipality, officer):
    assert take(officer).case.callback_due is None


def test_a_callback_needs_a_phone_number(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, callback_requested=True, sender=Sender(name="Jan", email="jan@example.nl"))
    assert excinfo.value.message_dict["sender_phone"] == [str(ORAL_CALLBACK_NEEDS_PHONE)]
    assert Registration.objects.count() == 0


def test_resolved_at_once_closes_the_case_straight_away_as_informally_resolved(municipality, officer):
    registration = take(officer, channel="counter", resolved_at_once=True, resolution_note="Paspoort alsnog meegegeven.")
    case = Case.objects.get(registration=registration)
    assert case.state == "closed" and case.outcome == ComplaintOutcome.RESOLVED_INFORMALLY == "informeel_opgelost"
    assert case.closed_at is not None
    transition = CaseEvent.objects.get(case=case, kind="transition")
    assert (transition.name, transition.from_state, transition.to_state) == ("resolve_informally", "received", "closed")
    assert transition.note == "Paspoort alsnog meegegeven." and transition.actor == officer


def test_resolved_at_once_is_already_closed_when_case_registered_is_sent(municipality, officer, django_capture_on_commit_callbacks):
    """So the acknowledgement receiver sees a closed case (no acknowledgement after Awb 9:5)."""
    states = []

    def record(sender, case_id, **kwargs):
        states.append(Case.objects.get(pk=case_id).state)

    case_registered.connect(record, dispatch_uid="test-oral-state", weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            take(officer, resolved_at_once=True)
    finally:
        case_registered.disconnect(dispatch_uid="test-oral-state")
    assert states == ["closed"]


def test_a_complaint_resolved_at_once_may_stay_anonymous(municipality, officer):
    registration = take(officer, sender=Sender(), resolved_at_once=True)
    assert registration.case.state == "closed"


def test_an_open_complaint_needs_a_way_to_answer(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, sender=Sender(name="Jan"))
    assert excinfo.value.message_dict["sender"] == [str(ORAL_NO_CONTACT)]
    assert Registration.objects.count() == 0


def test_a_suggestion_cannot_be_resolved_at_once(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, kind="suggestion", resolved_at_once=True)
    assert excinfo.value.message_dict["resolved_at_once"] == [str(ORAL_RESOLVED_ONLY_COMPLAINT)]
    assert Registration.objects.count() == 0


def test_resolved_at_once_needs_no_callback(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, resolved_at_once=True, callback_requested=True)
    assert excinfo.value.message_dict["callback_requested"] == [str(ORAL_RESOLVED_NO_CALLBACK)]
    assert Registration.objects.count() == 0


def test_only_phone_and_counter_are_oral_channels(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, channel="web")
    assert excinfo.value.message_dict["channel"] == [str(ORAL_WRONG_CHANNEL)]


def test_an_empty_text_is_refused(municipality, officer):
    with pytest.raises(ValidationError) as excinfo:
        take(officer, text="   ")
    assert excinfo.value.message_dict["text"] == [str(errors.EMPTY_TEXT)]


def test_who_may_not_handle_cases_cannot_resolve_at_once_and_nothing_is_registered(municipality):
    clerk = UserFactory(username="postkamer", role=MAILROOM)  # may register, may not handle
    with pytest.raises(PermissionDenied):
        take(clerk, resolved_at_once=True)
    assert Registration.objects.count() == 0 and Case.objects.count() == 0
    assert take(clerk, sender=Sender(email="a@example.nl")).case.state == "received"  # registering alone is allowed


def test_who_may_not_register_is_refused(municipality):
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied, match=str(ORAL_NO_PERMISSION)):
        take(editor)
    assert Registration.objects.count() == 0


def test_a_double_submit_with_the_same_key_registers_once(municipality, officer):
    first = take(officer, idempotency_key="formulier-1", resolved_at_once=True)
    second = take(officer, idempotency_key="formulier-1", resolved_at_once=True)
    assert first.pk == second.pk
    assert Registration.objects.count() == 1
    assert CaseEvent.objects.filter(case=first.case, kind="transition").count() == 1


# --- the officers' form ---------------------------------------------------------------------
def form_data(**overrides):
    data = {"channel": "phone", "kind": "complaint", "text": "Niet teruggebeld.", "sender_name": "Jan", "sender_phone": "", "form_token": "t-1"}
    data.update(overrides)
    return data


def test_oral_form_puts_a_service_refusal_on_the_right_field(municipality, officer):
    form = OralIntakeForm(data=form_data(callback_requested="on", sender_email="jan@example.nl"))
    assert form.is_valid(), form.errors
    assert form.register(actor=officer) is None
    assert form.errors["sender_phone"] == [str(ORAL_CALLBACK_NEEDS_PHONE)]
    assert Registration.objects.count() == 0


def test_oral_form_shows_missing_contact_as_a_form_error(municipality, officer):
    form = OralIntakeForm(data=form_data())
    assert form.is_valid()
    assert form.register(actor=officer) is None
    assert form.non_field_errors() == [str(ORAL_NO_CONTACT)]


def test_oral_form_registers_and_closes_when_resolved_at_once(municipality, officer):
    form = OralIntakeForm(data=form_data(resolved_at_once="on", channel="counter"))
    assert form.is_valid(), form.errors
    registration = form.register(actor=officer)
    assert registration.channel == "counter" and registration.case.state == "closed"
    again = OralIntakeForm(data=form_data(resolved_at_once="on", channel="counter"))
    assert again.is_valid() and again.register(actor=officer).pk == registration.pk
