"""Letters from the workspace: compose from the template, preview, send (with its step), print and post."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import errors
from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import PLACEHOLDER_LEFT, PLACEHOLDER_RE
from cases.correspondence.post import NOT_TO_PRINT
from cases.models import CaseState, LetterKind, OutboxStatus, OutgoingMessage, Registration
from cases.workspace import compose, mailroom
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def compose_url(case):
    return reverse("handvest_workspace:compose", args=[case.pk])


def shown(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def filled(text: str) -> str:
    """The draft with every [[ place to fill ]] filled in, as an officer would."""
    return PLACEHOLDER_RE.sub("Wij hebben met de afdeling gesproken.", text)


# --- composing -------------------------------------------------------------------------------------
def test_the_composer_fills_the_template_of_the_step(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    response = officer_client.post(compose_url(case), {"name": "explain", "expected_state": case.state})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["kind"] == LetterKind.EXPLANATION and form.initial["step"] == "explain"
    assert case.registration.number in form.initial["subject"]
    assert case.registration.sender_name in form.initial["body_text"]


def test_the_email_preview_shows_what_the_citizen_receives(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    data = {
        "action": "preview",
        "kind": "explanation",
        "step": "explain",
        "expected_state": case.state,
        "subject": "Uitleg",
        "body_text": "Beste mevrouw, hier is de uitleg.",
    }
    response = officer_client.post(compose_url(case), data)
    preview = response.context["preview"]
    assert preview["to"] == case.registration.sender_email
    assert "Beste mevrouw, hier is de uitleg." in preview["body"] and case.registration.number in preview["subject"]
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT and not OutgoingMessage.objects.filter(case=case, kind="explanation").exists()


def test_the_pdf_preview_is_a_pdf_and_stores_nothing(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    data = {"action": "pdf", "kind": "explanation", "expected_state": case.state, "subject": "Uitleg", "body_text": "Beste mevrouw,\n\nHier is de uitleg."}
    response = officer_client.post(compose_url(case), data)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert not OutgoingMessage.objects.filter(case=case, kind="explanation").exists()


def test_sending_with_the_step_moves_the_case_and_writes_the_letter(officer_client, municipality, handler, django_capture_on_commit_callbacks):
    case = CaseFactory(in_treatment=True, actor=handler)
    draft = letter_compose(case=case, kind="explanation")
    data = {
        "action": "send",
        "kind": "explanation",
        "step": "explain",
        "expected_state": case.state,
        "subject": draft.subject,
        "body_text": filled(draft.body_text),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(compose_url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.EXPLAINED
    letter = OutgoingMessage.objects.get(case=case, kind="explanation")
    assert letter.status == OutboxStatus.SENT and letter.created_by == handler
    assert [m.to for m in mail.outbox if m.subject == letter.subject] == [[case.registration.sender_email]]


def test_a_letter_with_places_left_to_fill_is_refused_and_the_step_is_not_taken(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    draft = letter_compose(case=case, kind="explanation")
    assert PLACEHOLDER_RE.search(draft.body_text)
    data = {"action": "send", "kind": "explanation", "step": "explain", "expected_state": case.state, "subject": draft.subject, "body_text": draft.body_text}
    response = officer_client.post(compose_url(case), data)
    assert response.status_code == 200  # the composer again, with the text kept
    assert response.context["form"].data["body_text"] == draft.body_text
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert not OutgoingMessage.objects.filter(case=case, kind="explanation").exists()
    assert shown(response) == [str(PLACEHOLDER_LEFT)]


def test_sending_from_a_stale_composer_gets_the_conflict_message(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    data = {"action": "send", "kind": "explanation", "step": "explain", "expected_state": "acknowledged", "subject": "Uitleg", "body_text": "Beste mevrouw,"}
    response = officer_client.post(compose_url(case), data)
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert shown(response) == [str(errors.CONCURRENT_CHANGE % {"state": "in behandeling"})]


def test_the_acknowledgement_sent_from_the_workspace_acknowledges_the_case(officer_client, municipality, handler, django_capture_on_commit_callbacks):
    case = CaseFactory()
    response = officer_client.post(compose_url(case), {"name": "acknowledge", "expected_state": case.state})
    initial = response.context["form"].initial
    data = {
        "action": "send",
        "kind": initial["kind"],
        "step": "acknowledge",
        "expected_state": case.state,
        "subject": initial["subject"],
        "body_text": initial["body_text"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(compose_url(case), data)
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert OutgoingMessage.objects.get(case=case, kind="acknowledgement").status == OutboxStatus.SENT


def test_a_letter_without_a_step_goes_on_its_own(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    data = {"action": "send", "kind": "other", "expected_state": case.state, "subject": "Vraag", "body_text": "Beste mevrouw, mogen wij u bellen?"}
    officer_client.post(compose_url(case), data)
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert OutgoingMessage.objects.get(case=case, kind="other").body_text == "Beste mevrouw, mogen wij u bellen?"


def test_the_composer_refuses_a_letter_that_does_not_fit_the_case(officer_client, municipality, handler):
    case = CaseFactory(suggestion=True, acknowledged=True, actor=handler)
    response = officer_client.get(compose_url(case), {"kind": "answer"})
    assert response.status_code == 302
    assert "past niet bij" in shown(response)[0]


def test_the_case_page_offers_a_step_with_its_letter(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    html = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert f'formaction="{compose_url(case)}"' in html and "Met brief" in html
    assert set(compose.STEP_LETTERS) >= {"explain", "answer", "acknowledge"}


# --- the print queue -------------------------------------------------------------------------------
def letter_to_print(case):
    return OutgoingMessage.objects.create(
        case=case,
        kind="answer",
        channel="post",
        status=OutboxStatus.TO_PRINT,
        dedupe_key=f"case:{case.pk}:answer:test",
        to_name=case.registration.sender_name,
        to_address=case.registration.sender_address,
        subject="Antwoord",
        body_text="Beste,",
        message_id=f"<{case.pk}@test>",
    )


def test_the_print_queue_lists_letters_to_print_oldest_first(client, municipality):
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    first, second = letter_to_print(CaseFactory(email="")), letter_to_print(CaseFactory(email=""))
    sent = letter_to_print(CaseFactory())
    OutgoingMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    response = client.get(reverse("handvest_mailroom:print_queue"))
    assert list(response.context["page_obj"].object_list) == [first, second]


def test_a_printed_letter_made_again_is_to_be_printed_again_until_the_mailroom_prints_it(client, municipality, django_capture_on_commit_callbacks):
    """A printed letter whose address was corrected goes back to the outbox, which makes its PDF again. The print queue
    says why it is to be printed again (the earlier print goes in the bin), also after the outbox
    rewrote the letter's delivery note while making it, until the mailroom marks the new print."""
    from cases.correspondence.post import REPRINT_NEW_ADDRESS, letters_readdress

    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    case = CaseFactory(email="")
    letter = letter_to_print(case)
    client.post(reverse("handvest_mailroom:mark_printed", args=[letter.pk]))
    Registration.objects.filter(pk=case.registration.pk).update(sender_address="Noorderhaven 2\n8861 AL Harlingen")
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert letters_readdress(case=case) == 1
    letter.refresh_from_db()
    assert (letter.status, letter.to_address) == (OutboxStatus.TO_PRINT, "Noorderhaven 2\n8861 AL Harlingen")
    assert letter.reprint_reason == str(REPRINT_NEW_ADDRESS)
    assert letter.pdf  # made again by the outbox, which also wrote its own note
    queue = client.get(reverse("handvest_mailroom:print_queue")).content.decode()
    assert "Opnieuw printen:" in queue and str(REPRINT_NEW_ADDRESS) in queue
    client.post(reverse("handvest_mailroom:mark_printed", args=[letter.pk]))
    letter.refresh_from_db()
    assert (letter.status, letter.reprint_reason) == (OutboxStatus.PRINTED, "")
    assert "Opnieuw printen:" not in client.get(reverse("handvest_mailroom:print_queue")).content.decode()


def test_a_letter_is_printed_once_then_posted_and_only_then_leaves_the_queue(client, municipality):
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    letter = letter_to_print(CaseFactory(email=""))
    url = reverse("handvest_mailroom:mark_printed", args=[letter.pk])
    client.post(url)
    letter.refresh_from_db()
    assert letter.status == OutboxStatus.PRINTED and letter.printed_at is not None
    printed_at = letter.printed_at
    response = client.post(url)  # a second click: printed it is, once
    assert "staat als geprint" in shown(response)[-1]
    letter.refresh_from_db()
    assert letter.printed_at == printed_at
    assert letter in client.get(reverse("handvest_mailroom:print_queue")).context["page_obj"].object_list  # still to post
    client.post(reverse("handvest_mailroom:mark_posted"), {"letters": [letter.pk], "posted_on": timezone.localdate().isoformat()})
    letter.refresh_from_db()
    assert letter.status == OutboxStatus.POSTED and letter.posted_at is not None
    assert letter not in client.get(reverse("handvest_mailroom:print_queue")).context["page_obj"].object_list
    assert shown(client.post(url))[-1] == str(NOT_TO_PRINT % {"status": "gepost"})  # posted: no longer to print


# --- the mailroom registers a letter ----------------------------------------------------------------
def typed_letter_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Betreft: klacht over de wachttijd aan de balie</p><p>Ik heb drie kwartier gewacht aan de balie.</p>").write_pdf()


def test_the_mailroom_registers_a_scanned_letter_and_sees_its_text_to_check(client, municipality):
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    received = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(
        reverse("handvest_mailroom:register"),
        {
            "scan": SimpleUploadedFile("brief.pdf", typed_letter_pdf(), content_type="application/pdf"),
            "received_on": received.isoformat(),
            "kind": "complaint",
            "sender_name": "Sietske de Vries",
            "sender_address": "Voorstraat 1\n8861 BL Harlingen",
        },
    )
    registration = Registration.objects.get(channel="letter")
    assert response["Location"] == reverse("handvest_mailroom:letter", args=[registration.pk])
    assert registration.received_on == received and registration.case.kind == "complaint"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "drie kwartier gewacht" in html
    assert page.context["form"] is not None  # the case is as registered: the mailroom may correct the text
    assert "drie kwartier gewacht" in page.context["form"].initial["text"]
    assert str(mailroom.DONE_REGISTERED % {"number": registration.number}) in [str(m) for m in page.context["messages"]]


def test_a_letter_dated_in_the_future_is_refused_next_to_the_date(client, municipality):
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    response = client.post(
        reverse("handvest_mailroom:register"),
        {
            "scan": SimpleUploadedFile("brief.pdf", typed_letter_pdf(), content_type="application/pdf"),
            "received_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
            "kind": "other",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["received_on"] == [str(errors.RECEIVED_IN_FUTURE)]
    assert not Registration.objects.exists()


def test_an_officer_corrects_the_text_read_from_the_scan(officer_client, municipality, handler):
    from cases.intake.letters import letter_register
    from cases.workflow.registration import Sender

    result = letter_register(
        scan_file=SimpleUploadedFile("brief.pdf", typed_letter_pdf(), content_type="application/pdf"),
        sender=Sender(name="S. de Vries", address="Voorstraat 1"),
        received_on=timezone.localdate(),
        actor=handler,
        kind="complaint",
    )
    url = reverse("handvest_mailroom:letter", args=[result.registration.pk])
    officer_client.post(url, {"text": "Ik heb drie kwartier gewacht aan de balie van het gemeentehuis."})
    result.registration.refresh_from_db()
    assert result.registration.text == "Ik heb drie kwartier gewacht aan de balie van het gemeentehuis."
