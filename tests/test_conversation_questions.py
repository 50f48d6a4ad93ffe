"""Asking the citizen (*reactie gevraagd*): the question goes through the outbox, stands on the
private page with a reply form, and the reply (web, e-mail or letter) lands on the case."""

import datetime
import logging

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.conversation import texts
from cases.conversation.notify import reply_notify
from cases.conversation.questions import question_answer, question_ask, question_withdraw
from cases.conversation.timeline import conversation_entries
from cases.correspondence.delivery import outgoing_send
from cases.errors import WorkflowError
from cases.intake.email import email_intake
from cases.intake.uploads import TOO_MANY_FILES
from cases.models import Attachment, CaseEvent, CitizenQuestion, EventKind, InboundOutcome, LetterKind, OutboxStatus, OutgoingMessage, QuestionStatus
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def ask(case, text="Op welke dag was u aan de balie?"):
    return question_ask(case_id=case.pk, text=text, actor=officer(), expected_state=case.state)


def shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def page(client, case):
    return client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


def reply_url(case, question):
    return reverse("cases:question_reply", kwargs={"token": case.public_token, "pk": question.pk})


# --- asking ---------------------------------------------------------------------------------------------
def test_a_question_goes_by_email_through_the_outbox_and_is_sent_once(gemeente, django_capture_on_commit_callbacks):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    with django_capture_on_commit_callbacks(execute=True):
        question = ask(case)
    letter = OutgoingMessage.objects.get(pk=question.letter_id)
    assert letter.kind == LetterKind.QUESTION and letter.channel == "email" and letter.status == OutboxStatus.SENT
    assert "Op welke dag was u aan de balie?" in letter.body_text and case.registration.number in letter.subject
    outgoing_send(outgoing_id=letter.pk)  # a second delivery (a retried task) sends nothing
    assert len([m for m in mail.outbox if "Op welke dag" in m.body]) == 1
    assert CaseEvent.objects.filter(case=case, name="question_asked").count() == 1


def test_a_question_to_a_citizen_without_email_becomes_a_pdf_letter(gemeente, django_capture_on_commit_callbacks):
    case = CaseFactory(in_treatment=True, by_post=True)
    with django_capture_on_commit_callbacks(execute=True):
        question = ask(case)
    question.letter.refresh_from_db()
    assert question.letter.channel == "post" and question.letter.status == OutboxStatus.TO_PRINT


def test_the_question_is_threaded_to_the_citizens_mail(gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    assert question.letter.message_id and question.letter.references is not None


def test_the_answer_term_keeps_running_while_a_question_is_open(gemeente):
    case = CaseFactory(in_treatment=True)
    before = (case.answer_due, case.extended_answer_due, case.state)
    ask(case)
    case.refresh_from_db()
    assert (case.answer_due, case.extended_answer_due, case.state) == before
    assert case.next_deadline() == ("answer", case.answer_due)


def test_an_empty_question_is_refused_with_a_log_line_and_nothing_changes(gemeente, caplog):
    case = CaseFactory(in_treatment=True)
    with caplog.at_level(logging.WARNING), pytest.raises(ValidationError) as exc:
        ask(case, text="   ")
    assert str(texts.QUESTION_EMPTY) in str(exc.value)
    assert "refused" in caplog.text
    assert not CitizenQuestion.objects.exists() and not OutgoingMessage.objects.filter(kind=LetterKind.QUESTION).exists()


def test_a_second_question_while_one_is_open_is_refused(gemeente):
    case = CaseFactory(in_treatment=True)
    ask(case)
    with pytest.raises(WorkflowError, match=str(texts.QUESTION_ALREADY_OPEN)[:30]):
        ask(case, text="Nog een vraag")
    assert CitizenQuestion.objects.filter(case=case).count() == 1


def test_a_closed_case_cannot_get_a_question(gemeente):
    case = CaseFactory(closed=True)
    with pytest.raises(WorkflowError, match="afgesloten"):
        ask(case)
    assert not CitizenQuestion.objects.exists()


def test_only_a_quality_officer_may_ask(gemeente):
    case = CaseFactory(in_treatment=True)
    with pytest.raises(PermissionDenied):
        question_ask(case_id=case.pk, text="Vraag", actor=UserFactory(username="buitenstaander"))
    assert not CitizenQuestion.objects.exists()


# --- answering on the private page ----------------------------------------------------------------------
def test_the_open_question_stands_first_on_the_private_page_with_a_reply_form(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    html = page(client, case)
    assert "Wij wachten op uw antwoord" in html and "Op welke dag was u aan de balie?" in html
    assert reply_url(case, question) in html
    assert html.index("Wij wachten op uw antwoord") < html.index("Wat gebeurt er nu?")


def test_the_citizen_answers_with_text_and_a_file_and_the_waiting_time_is_recorded(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    upload = SimpleUploadedFile("bon.pdf", PDF, content_type="application/pdf")
    response = client.post(reply_url(case, question), {"text": "Op dinsdag 3 november.", "attachments": [upload]})
    assert response.status_code == 302 and "verstuurd=antwoord" in response["Location"]
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED and question.answer_text == "Op dinsdag 3 november." and question.answer_channel == "web"
    assert question.waiting_time >= datetime.timedelta(0)
    (attachment,) = question.attachments.all()
    assert attachment.registration_id == case.registration_id and attachment.content_type == "application/pdf"
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_IN, name="question_answer").count() == 1
    html = page(client, case)
    assert "Wij hebben uw antwoord ontvangen" in client.get(response["Location"]).content.decode()
    assert "Wij wachten op uw antwoord" not in html and "Uw antwoord op onze vraag" in html


def test_a_reply_uses_the_web_forms_upload_rules(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(reply_url(case, question), {"text": "Zie bijlage", "attachments": [fake]})
    assert response.status_code == 400 and "geen PDF, JPEG, PNG of Word-bestand" in response.content.decode()
    files = [SimpleUploadedFile(f"f{i}.pdf", PDF, content_type="application/pdf") for i in range(6)]
    response = client.post(reply_url(case, question), {"text": "Zes bestanden", "attachments": files})
    assert response.status_code == 400 and str(TOO_MANY_FILES % {"max": 5, "count": 6}) in response.content.decode()
    question.refresh_from_db()
    assert question.status == QuestionStatus.OPEN and not Attachment.objects.exists()


def test_an_empty_reply_is_refused_with_a_dutch_message(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    response = client.post(reply_url(case, question), {"text": "  "})
    assert response.status_code == 400 and str(texts.REPLY_EMPTY) in response.content.decode()
    assert CitizenQuestion.objects.get().status == QuestionStatus.OPEN


def test_a_question_is_answered_once(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    question_answer(case_id=case.pk, question_id=question.pk, text="Eerste antwoord")
    with pytest.raises(WorkflowError):
        question_answer(case_id=case.pk, question_id=question.pk, text="Tweede antwoord")
    question.refresh_from_db()
    assert question.answer_text == "Eerste antwoord" and question.status == QuestionStatus.ANSWERED


def test_a_reply_from_a_page_left_open_is_kept_as_an_addition_and_read_again(client, gemeente):
    # The citizen answered in one tab, then sent more from a second tab opened before: nothing is lost.
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    question_answer(case_id=case.pk, question_id=question.pk, text="Eerste antwoord")
    CitizenQuestion.objects.filter(pk=question.pk).update(read_at=timezone.now())
    response = client.post(reply_url(case, question), {"text": "Ik vergat nog: het was om 10 uur."})
    assert response.status_code == 302 and "verstuurd=aanvulling#verstuurd" in response["Location"]
    question.refresh_from_db()
    assert question.answer_text.startswith("Eerste antwoord\n\nAanvulling van ") and question.answer_text.endswith("Ik vergat nog: het was om 10 uur.")
    assert question.read_at is None  # back in the officer's 'Antwoorden om te lezen'
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_IN, name="question_answer_addition").count() == 1
    assert "als aanvulling bij uw melding" in client.get(response["Location"]).content.decode()


def test_a_double_click_on_a_reply_keeps_it_once(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    first = client.post(reply_url(case, question), {"text": "Op dinsdag."})
    second = client.post(reply_url(case, question), {"text": "Op dinsdag."})
    assert first.status_code == second.status_code == 302 and "verstuurd=antwoord" in second["Location"]
    question.refresh_from_db()
    assert question.answer_text == "Op dinsdag."
    assert not CaseEvent.objects.filter(name="question_answer_addition").exists()


def test_a_link_cannot_answer_the_question_of_another_case(client, gemeente):
    mine, theirs = CaseFactory(in_treatment=True), CaseFactory(in_treatment=True)
    their_question = ask(theirs)
    url = reverse("cases:question_reply", kwargs={"token": mine.public_token, "pk": their_question.pk})
    assert client.post(url, {"text": "Ik kaap deze vraag"}).status_code == 404
    with pytest.raises(WorkflowError):
        question_answer(case_id=mine.pk, question_id=their_question.pk, text="Ik kaap deze vraag")
    assert CitizenQuestion.objects.get(pk=their_question.pk).status == QuestionStatus.OPEN


def test_an_unknown_or_revoked_link_is_a_404(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    assert client.post(reverse("cases:question_reply", kwargs={"token": "geraden", "pk": question.pk}), {"text": "x"}).status_code == 404
    case.public_token_revoked = True
    case.save(update_fields=["public_token_revoked"])
    assert client.post(reply_url(case, question), {"text": "x"}).status_code == 404


def test_a_withdrawn_question_is_not_shown_but_a_reply_to_it_is_kept(client, gemeente):
    """A reply posted to a withdrawn question (a page left open) is its answer after all: kept, and waiting for
    the officer to read it, never only a line on the timeline."""
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    question_withdraw(case_id=case.pk, question_id=question.pk, actor=officer())
    assert client.get(reply_url(case, question)).status_code == 404
    assert "Wij wachten op uw antwoord" not in page(client, case)
    response = client.post(reply_url(case, question), {"text": "Te laat, maar toch: het was dinsdag."})
    assert response.status_code == 302 and "verstuurd=aanvulling" in response["Location"]
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED and question.answer_text == "Te laat, maar toch: het was dinsdag." and question.read_at is None
    (event,) = CaseEvent.objects.filter(case=case, name="question_answer_addition")
    assert event.kind == EventKind.MESSAGE_IN and event.note == "Te laat, maar toch: het was dinsdag."


# --- answering by e-mail --------------------------------------------------------------------------------
def reply_mail(question, *, sender, in_reply_to=True) -> bytes:
    headers = [
        f"From: Piet <{sender}>",
        "To: info@harlingen.nl",
        f"Subject: Re: {question.letter.subject}",
        "Date: Wed, 02 Dec 2026 10:00:00 +0100",
        f"Message-ID: <antwoord-{question.pk}-{sender}@example.nl>",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {question.letter.message_id}")
    return ("\n".join(headers) + "\nContent-Type: text/plain; charset=utf-8\n\nHet was op dinsdag.\n").encode()


def test_a_threaded_email_reply_lands_as_the_answer_to_the_open_question(gemeente):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = ask(case)
    result = email_intake(raw=reply_mail(question, sender="piet@example.nl"), source="eml")
    assert result.outcome == InboundOutcome.THREAD
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED and question.answer_channel == "email" and "dinsdag" in question.answer_text
    assert question.answer_inbound is not None
    titles = [entry.title for entry in conversation_entries(case)]
    assert titles.count("Uw antwoord op onze vraag") == 1 and "Uw e-mail" not in titles  # on the page once, as the answer


def test_a_reply_by_number_from_a_stranger_does_not_answer_the_question(gemeente):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = ask(case)
    assert email_intake(raw=reply_mail(question, sender="iemand@anders.nl", in_reply_to=False), source="eml").outcome == InboundOutcome.THREAD
    question.refresh_from_db()
    assert question.status == QuestionStatus.OPEN


def test_an_answer_received_by_letter_is_recorded_by_the_officer(gemeente):
    case = CaseFactory(in_treatment=True, by_post=True)
    question = ask(case)
    question_answer(case_id=case.pk, question_id=question.pk, text="Brief: het was op dinsdag.", channel="letter", actor=officer())
    question.refresh_from_db()
    assert question.answer_channel == "letter" and question.status == QuestionStatus.ANSWERED


def test_only_an_officer_records_an_answer_by_letter(gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    with pytest.raises(PermissionDenied):
        question_answer(case_id=case.pk, question_id=question.pk, text="x", channel="letter", actor=UserFactory(username="buiten"))
    assert CitizenQuestion.objects.get().status == QuestionStatus.OPEN


# --- the officer's workspace ----------------------------------------------------------------------------
def test_the_officer_asks_from_the_case_page_and_sees_the_reply_in_the_queue(officer_client, gemeente):
    case = CaseFactory(in_treatment=True)
    url = reverse("handvest_conversation:action", args=[case.pk, "ask"])
    response = officer_client.post(url, {"expected_state": case.state, "text": "Welke medewerker sprak u?"}, follow=True)
    assert "Uw vraag gaat per e-mail naar de indiener" in response.content.decode()
    question = CitizenQuestion.objects.get(case=case)
    queue = officer_client.get(reverse("handvest_conversation:queue")).content.decode()
    assert "Wachten op de indiener (1)" in queue and case.registration.number in queue
    question_answer(case_id=case.pk, question_id=question.pk, text="Mevrouw De Vries")
    queue = officer_client.get(reverse("handvest_conversation:queue")).content.decode()
    assert "Antwoorden om te lezen (1)" in queue
    detail = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert "Mevrouw De Vries" in detail and "Gesprek met de indiener" in detail
    officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "read"]), {"question": question.pk})
    assert "Antwoorden om te lezen (0)" in officer_client.get(reverse("handvest_conversation:queue")).content.decode()


def test_an_empty_question_from_the_case_page_gets_a_dutch_message(officer_client, gemeente):
    case = CaseFactory(in_treatment=True)
    response = officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "ask"]), {"expected_state": case.state, "text": ""})
    assert shown(response) == [str(texts.QUESTION_EMPTY)]
    assert not CitizenQuestion.objects.exists()


def test_a_stale_case_page_cannot_ask(officer_client, gemeente):
    case = CaseFactory(in_treatment=True)
    response = officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "ask"]), {"expected_state": "received", "text": "Vraag"})
    assert shown(response)[0].startswith("Een collega heeft deze zaak net gewijzigd")
    assert not CitizenQuestion.objects.exists()


def test_waiting_times_are_kept_per_question(gemeente):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    CitizenQuestion.objects.filter(pk=question.pk).update(asked_at=question.asked_at - datetime.timedelta(days=3))
    question_answer(case_id=case.pk, question_id=question.pk, text="Antwoord")
    question.refresh_from_db()
    assert question.waiting_time >= datetime.timedelta(days=3)


def test_every_refusal_leaves_a_log_line(gemeente, caplog):
    case = CaseFactory(in_treatment=True)
    question = ask(case)
    question_answer(case_id=case.pk, question_id=question.pk, text="Antwoord")
    with caplog.at_level(logging.WARNING, logger="cases.conversation"):
        with pytest.raises(WorkflowError):
            question_answer(case_id=case.pk, question_id=question.pk, text="Nog eens")
        with pytest.raises(ValidationError):
            question_answer(case_id=case.pk, question_id=question.pk, text="x" * 10_001)
    refusals = [r.getMessage() for r in caplog.records if r.name == "cases.conversation.questions" and r.levelno >= logging.WARNING]
    assert len(refusals) == 2 and all("refused" in line for line in refusals)
    question.refresh_from_db()
    assert question.answer_text == "Antwoord"


def test_the_handler_is_told_once_by_email_that_the_citizen_answered(gemeente, django_capture_on_commit_callbacks):
    handler = officer("b.handler")
    handler.email = "b.handler@harlingen.nl"
    handler.save()
    case = CaseFactory(in_treatment=True, actor=handler)
    question = ask(case)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        question_answer(case_id=case.pk, question_id=question.pk, text="Het antwoord, met iets persoonlijks.")
    notices = [m for m in mail.outbox if m.to == ["b.handler@harlingen.nl"]]
    assert len(notices) == 1 and case.registration.number in notices[0].subject
    assert "persoonlijks" not in notices[0].body  # the nudge carries no text of the citizen's
    assert reply_notify(question_id=question.pk) == "already"  # a retried task mails nothing
    assert len([m for m in mail.outbox if m.to == ["b.handler@harlingen.nl"]]) == 1
