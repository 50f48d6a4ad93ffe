"""The triage list: other mail and unprocessable e-mail become a case, are forwarded, or are done."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from cases.errors import WorkflowError
from cases.intake.triage import (
    FORWARD_ADDRESS,
    LOG_CONVERTED,
    LOG_FORWARDED,
    MESSAGE_ALREADY_HANDLED,
    MESSAGE_NEEDS_TEXT,
    TRIAGE_ALREADY_DECIDED,
    TRIAGE_CASE_KIND,
    triage_convert,
    triage_done,
    triage_forward,
)
from cases.models import Attachment, Case, InboundMessage, Registration, TriageState
from cases.workflow.registration import Sender, register_item
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

TRIAGE = reverse("handvest_triage:list")


def other_mail(days_ago=3, text="Bijgaand de factuur voor maart.", subject="Factuur maart"):
    registration, _ = register_item(
        channel="email",
        kind="other",
        text=text,
        subject=subject,
        sender=Sender(name="Drukkerij Noord", email="facturen@drukkerij.example"),
        received_on=timezone.localdate() - datetime.timedelta(days=days_ago),
    )
    return registration


def broken_message(text="", raw=b"From: x@example.net\r\nSubject: kapot\r\n\r\n\xff\xfe"):
    message = InboundMessage(
        source="webhook:mailgun", from_address="x@example.net", from_name="X", subject="kapot", text=text, outcome="error", reason="Geen leesbare tekst"
    )
    message.raw.save("kapot.eml", ContentFile(raw), save=True)
    return message


def shown(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the list --------------------------------------------------------------------------------------
def test_the_triage_list_shows_pending_other_mail_and_unprocessable_email_with_the_reason(officer_client, municipality):
    waiting = other_mail(subject="Factuur maart")
    done = other_mail(subject="Bedankje", text="Dank u wel")
    triage_done(registration_id=done.pk, actor=None)
    CaseFactory(text="klacht", subject="Een echte klacht", name="A", email="a@example.nl")  # a complaint: not for triage
    broken_message()
    InboundMessage.objects.create(source="eml", subject="al afgehandeld", outcome="error", reason="x", handled=True)
    html = officer_client.get(TRIAGE).content.decode()
    assert waiting.number in html and "Factuur maart" in html
    assert "Bedankje" not in html and "Een echte klacht" not in html and "al afgehandeld" not in html
    assert "Geen leesbare tekst" in html


# --- other mail ------------------------------------------------------------------------------------
def test_other_mail_becomes_a_complaint_that_keeps_its_date_of_receipt(officer_client, municipality, handler):
    registration = other_mail(days_ago=10)
    response = officer_client.post(reverse("handvest_triage:registration_action", args=[registration.pk, "convert"]), {"kind": "complaint"})
    registration.refresh_from_db()
    case = registration.case
    assert response["Location"] == reverse("handvest_workspace:case", args=[case.pk])
    assert (registration.kind, registration.triage_state, case.kind) == ("complaint", TriageState.CONVERTED, "complaint")
    assert case.answer_due > registration.received_on and case.acknowledgement_due < timezone.localdate()  # dated on receipt, not on triage
    assert ModelLogEntry.objects.filter(action=LOG_CONVERTED, object_id=str(registration.pk), user=handler).exists()


def test_other_mail_cannot_be_converted_twice(municipality, handler):
    registration = other_mail()
    triage_convert(registration_id=registration.pk, kind="suggestion", actor=handler)
    with pytest.raises(WorkflowError):
        triage_convert(registration_id=registration.pk, kind="complaint", actor=handler)
    assert Case.objects.filter(registration=registration).count() == 1


def test_other_mail_can_only_become_a_complaint_or_a_suggestion(officer_client, municipality):
    registration = other_mail()
    response = officer_client.post(reverse("handvest_triage:registration_action", args=[registration.pk, "convert"]), {"kind": "other"})
    registration.refresh_from_db()
    assert registration.triage_state == TriageState.PENDING
    assert str(TRIAGE_CASE_KIND) in shown(response)[0]


def test_forwarding_other_mail_sends_it_with_its_attachments_after_commit(officer_client, municipality, handler, django_capture_on_commit_callbacks):
    registration = other_mail()
    attachment = Attachment(registration=registration, filename="factuur.pdf", content_type="application/pdf", size=9)
    attachment.file.save("factuur.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(
            reverse("handvest_triage:registration_action", args=[registration.pk, "forward"]), {"to": "crediteuren@harlingen.nl", "note": "Graag betalen"}
        )
    registration.refresh_from_db()
    assert registration.triage_state == TriageState.FORWARDED
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["crediteuren@harlingen.nl"] and registration.number in sent.subject
    assert "Graag betalen" in sent.body and "Bijgaand de factuur voor maart." in sent.body
    assert [name for name, _content, _type in sent.attachments] == ["factuur.pdf"]
    entry = ModelLogEntry.objects.get(action=LOG_FORWARDED, object_id=str(registration.pk))
    assert entry.data["to"] == "crediteuren@harlingen.nl"


def test_forwarding_needs_a_valid_address_and_changes_nothing_without_one(officer_client, municipality):
    registration = other_mail()
    response = officer_client.post(reverse("handvest_triage:registration_action", args=[registration.pk, "forward"]), {"to": "geen adres"})
    registration.refresh_from_db()
    assert registration.triage_state == TriageState.PENDING
    assert "e-mailadres" in shown(response)[0]
    with pytest.raises(ValidationError) as excinfo:
        triage_forward(registration_id=registration.pk, to="ook-geen-adres", actor=None)
    assert excinfo.value.message_dict["to"] == [str(FORWARD_ADDRESS)]


def test_marking_other_mail_done_takes_it_off_the_list(officer_client, municipality):
    registration = other_mail(subject="Bedankt voor de hulp")
    officer_client.post(reverse("handvest_triage:registration_action", args=[registration.pk, "done"]), {"note": "geen actie nodig"})
    registration.refresh_from_db()
    assert registration.triage_state == TriageState.DONE
    assert "Bedankt voor de hulp" not in officer_client.get(TRIAGE).content.decode()


def test_a_decision_on_an_item_already_decided_says_so(officer_client, municipality):
    registration = other_mail()
    triage_done(registration_id=registration.pk, actor=None)
    response = officer_client.post(reverse("handvest_triage:registration_action", args=[registration.pk, "done"]))
    assert shown(response) == [str(TRIAGE_ALREADY_DECIDED % {"state": "afgehandeld"})]


def test_the_mailroom_may_not_triage(municipality):
    registration = other_mail()
    with pytest.raises(PermissionDenied):
        triage_done(registration_id=registration.pk, actor=UserFactory(username="postkamer", role=MAILROOM))
    assert Registration.objects.get(pk=registration.pk).triage_state == TriageState.PENDING


# --- unprocessable e-mail --------------------------------------------------------------------------------
def test_an_unprocessable_email_is_registered_with_the_text_the_officer_read(officer_client, municipality, handler):
    message = broken_message()
    message.received_at = timezone.now() - datetime.timedelta(days=2)
    message.save()
    officer_client.post(
        reverse("handvest_triage:message_action", args=[message.pk, "register"]),
        {"kind": "complaint", "subject": "Wachttijd", "text": "Ik heb een uur gewacht."},
    )
    message.refresh_from_db()
    registration = message.registration
    assert message.handled and message.case == registration.case
    assert (registration.kind, registration.text, registration.channel) == ("complaint", "Ik heb een uur gewacht.", "email")
    assert registration.received_on == timezone.localdate(message.received_at)


def test_an_unprocessable_email_without_text_needs_the_officer_to_type_it(officer_client, municipality):
    message = broken_message(text="")
    response = officer_client.post(reverse("handvest_triage:message_action", args=[message.pk, "register"]), {"kind": "complaint", "text": ""})
    message.refresh_from_db()
    assert not message.handled and message.registration is None
    assert shown(response) == [str(MESSAGE_NEEDS_TEXT)]


def test_an_unprocessable_email_is_forwarded_as_it_arrived(officer_client, municipality, django_capture_on_commit_callbacks):
    message = broken_message()
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(reverse("handvest_triage:message_action", args=[message.pk, "forward"]), {"to": "ict@harlingen.nl"})
    message.refresh_from_db()
    assert message.handled
    assert mail.outbox[0].to == ["ict@harlingen.nl"]
    assert mail.outbox[0].attachments[0][2] == "message/rfc822"


def test_an_unprocessable_email_is_marked_done_once(officer_client, municipality):
    message = broken_message()
    officer_client.post(reverse("handvest_triage:message_action", args=[message.pk, "done"]))
    response = officer_client.post(reverse("handvest_triage:message_action", args=[message.pk, "done"]))
    message.refresh_from_db()
    assert message.handled
    assert shown(response)[-1] == str(MESSAGE_ALREADY_HANDLED)
