"""The conversation with the citizen by e-mail: bounces (by mail and on the ESP's tracking webhook), replies
to closed cases and to triaged mail, answers with the quoted thread below them, forged answers, our own
address coming back. Found by the e-mail review of stop 31; each test failed before its fix."""

import base64
import json

import pytest
from django.core import mail
from django.urls import reverse

from cases.conversation.questions import question_ask
from cases.intake.email import email_intake
from cases.models import (
    CaseEvent,
    InboundOutcome,
    OutgoingMessage,
    QuestionStatus,
    Registration,
)
from tests.factories import CaseFactory, officer

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")]

BASIC_AUTH = "harlingen-hooks:Zw4rt3-K4t-op-de-D1jk"


def sent_letter(case, *, kind="acknowledgement", message_id, to_email=None, provider_message_id="", automatic=True, body="Wij hebben uw klacht ontvangen."):
    """A letter of ``case`` that went out by e-mail."""
    return OutgoingMessage.objects.create(
        case=case,
        kind=kind,
        channel="email",
        status="sent",
        dedupe_key=f"{kind}-{case.pk}-{message_id}",
        automatic=automatic,
        to_email=to_email or case.registration.sender_email,
        subject=f"Brief over uw klacht ({case.registration.number})",
        body_text=body,
        message_id=message_id,
        provider_message_id=provider_message_id,
    )


def dsn(*, returned_id: str, recipient: str) -> bytes:
    """A Postfix delivery-status report returning one of our letters: 550 5.1.1 user unknown."""
    return (
        "From: MAILER-DAEMON@mx1.ziggo.nl (Mail Delivery System)\n"
        "To: info@harlingen.nl\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Message-ID: <dsn-{abs(hash(returned_id + recipient))}@mx1.ziggo.nl>\n"
        "Date: Tue, 03 Nov 2026 10:00:00 +0100\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"\n'
        "\n"
        "--BOUND\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n"
        "\n"
        "--BOUND\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "Reporting-MTA: dns; mx1.ziggo.nl\n"
        "\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
        "\n"
        "--BOUND\n"
        "Content-Type: text/rfc822-headers\n"
        "\n"
        "From: Gemeente Harlingen <info@harlingen.nl>\n"
        f"To: {recipient}\n"
        f"Message-ID: {returned_id}\n"
        "Subject: Brief over uw klacht\n"
        "\n"
        "--BOUND--\n"
    ).encode()


# --- bounces --------------------------------------------------------------------------------------------


def test_a_hard_bounce_reported_by_the_esp_marks_the_address_undeliverable_and_the_letter_goes_by_post(
    client, gemeente, settings, django_capture_on_commit_callbacks
):
    """With an ESP the envelope sender is the ESP's bounce address, so a DSN never reaches info@: the ESP reports the
    bounce on its tracking webhook (/anymail/<esp>/tracking/). That bounce marks the address undeliverable and
    sends the letter by post, as a bounce by mail does."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": BASIC_AUTH}
    case = CaseFactory(explained=True, email="a.dijkstra@ziggo.nl", address="Voorstraat 1\n8861 BK Harlingen")
    letter = sent_letter(
        case, kind="answer", message_id="<answer.1@handvest.harlingen.nl>", provider_message_id="883953f4-6105-42a2-a16a-77a8eac79483", automatic=False
    )
    payload = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": letter.provider_message_id,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "a.dijkstra@ziggo.nl",
        "From": "info@harlingen.nl",
        "BouncedAt": "2026-11-03T10:00:00Z",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": letter.subject,
        "Metadata": {},
    }
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(BASIC_AUTH.encode()).decode()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/postmark/tracking/", data=json.dumps(payload), content_type="application/json", **auth)
    assert response.status_code == 200
    assert Registration.objects.get(pk=case.registration_id).email_undeliverable
    assert OutgoingMessage.objects.filter(case=case, kind="answer", channel="post").exists()


def test_a_late_bounce_of_the_old_address_does_not_mark_the_corrected_address_undeliverable(gemeente, django_capture_on_commit_callbacks):
    """The citizen's address was corrected (as rectification does: new address, flag cleared); a late delivery report
    of a letter sent to the old address names the old address and leaves the new, working one deliverable."""
    case = CaseFactory(in_treatment=True, email="a.dijkstra@zigo.nl")
    sent_letter(case, message_id="<ack.old@handvest.harlingen.nl>", to_email="a.dijkstra@zigo.nl")
    Registration.objects.filter(pk=case.registration_id).update(sender_email="a.dijkstra@ziggo.nl", email_undeliverable=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = email_intake(raw=dsn(returned_id="<ack.old@handvest.harlingen.nl>", recipient="a.dijkstra@zigo.nl"), source="eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY
    assert not Registration.objects.get(pk=case.registration_id).email_undeliverable


def test_a_bounce_for_a_citizen_without_postal_address_warns_the_officer_instead_of_promising_post(gemeente, django_capture_on_commit_callbacks):
    """The answer bounced and there is no postal address: nothing can go by post, and the officer's note says the
    citizen must be called or asked for another address instead of promising post."""
    case = CaseFactory(explained=True, email="a.dijkstra@zigo.nl", address="")
    sent_letter(case, kind="answer", message_id="<answer.2@handvest.harlingen.nl>", automatic=False)
    with django_capture_on_commit_callbacks(execute=True):
        email_intake(raw=dsn(returned_id="<answer.2@handvest.harlingen.nl>", recipient="a.dijkstra@zigo.nl"), source="eml")
    assert not OutgoingMessage.objects.filter(case=case, channel="post").exists()  # nothing could go by post
    note = CaseEvent.objects.get(case=case, name="bounce").note
    assert "per post" not in note, note  # it should say the citizen has no postal address and must be called or written to


# --- replies --------------------------------------------------------------------------------------------


def test_a_reply_to_a_closed_case_is_not_silently_filed(gemeente, django_capture_on_commit_callbacks):
    """A citizen answers the final letter of a closed case ("ik ben het er niet mee eens"): besides the note on the
    timeline, the handler (or the quality officers) is told by e-mail."""
    case = CaseFactory(closed=True, email="piet@example.nl")
    number = case.registration.number
    letter = sent_letter(case, kind="answer", message_id="<answer.3@handvest.harlingen.nl>", automatic=False)
    before = set(OutgoingMessage.objects.values_list("pk", flat=True))
    raw = (
        f"From: Piet <piet@example.nl>\nTo: info@harlingen.nl\nSubject: Re: {letter.subject}\nMessage-ID: <oneens-1@example.nl>\n"
        f"In-Reply-To: {letter.message_id}\nDate: Wed, 02 Dec 2026 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
        f"Ik ben het niet eens met uw antwoord op {number}. De balie was echt dicht.\n"
    ).encode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert email_intake(raw=raw, source="eml").outcome == InboundOutcome.THREAD
    to_citizen = OutgoingMessage.objects.exclude(pk__in=before).filter(to_email="piet@example.nl")
    officers_told = [m for m in mail.outbox if "piet@example.nl" not in m.to]
    assert to_citizen.exists() or officers_told, "the reply to the closed case reached nobody"


def reply_to_question(question, *, sender, body: str, extra_headers: str = "") -> bytes:
    return (
        f"{extra_headers}From: Piet <{sender}>\nTo: info@harlingen.nl\nSubject: Re: {question.letter.subject}\n"
        f"Date: Wed, 02 Dec 2026 10:00:00 +0100\nMessage-ID: <antwoord-{question.pk}-{len(body)}@example.nl>\n"
        f"In-Reply-To: {question.letter.message_id}\nReferences: {question.letter.message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()


def test_an_email_answer_with_the_quoted_thread_below_it_answers_the_question(client, gemeente):
    """Mail programs quote the whole conversation below a reply. The answer is taken without that quote (and never
    refused for its length), so the question is answered and the citizen's page stops saying we wait for them."""
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Op welke dag was u aan de balie?", actor=officer(), expected_state=case.state)
    answer = "Het was op dinsdag 1 december, rond half elf, bij loket 3.\n\n"
    quoted = "\n".join(f"> {line}" for line in (question.letter.body_text + "\n\n" + case.registration.text + "\n").splitlines()) + "\n"
    earlier = "".join(f"> > Eerder bericht {n}: de wachtrij stond tot buiten, er was maar een loket open en niemand wist iets.\n" for n in range(110))
    body = answer + "Op 30 nov. 2026 schreef Gemeente Harlingen <info@harlingen.nl>:\n" + quoted + earlier
    assert len(body) > 10_000
    assert email_intake(raw=reply_to_question(question, sender="piet@example.nl", body=body), source="eml").outcome == InboundOutcome.THREAD
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED
    assert "dinsdag 1 december" in question.answer_text


def test_mail_that_failed_authentication_does_not_answer_the_citizens_question(client, gemeente):
    """A mail in the citizen's name that the receiving server found forged (DMARC fail) is noted as 'mogelijk
    vervalst'; even when it names the question letter it does not answer the question nor stand on the private page."""
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Op welke dag was u aan de balie?", actor=officer(), expected_state=case.state)
    forged = reply_to_question(
        question,
        sender="piet@example.nl",
        body="Ik trek mijn klacht in. Klik hier om uw gegevens te bevestigen.\n",
        extra_headers="Authentication-Results: mx.harlingen.nl; dmarc=fail (p=none) header.from=example.nl; spf=fail smtp.mailfrom=example.nl\n",
    )
    email_intake(raw=forged, source="eml")
    assert "mogelijk vervalst" in CaseEvent.objects.get(case=case, name="email").note
    question.refresh_from_db()
    assert question.status == QuestionStatus.OPEN
    page = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "gegevens te bevestigen" not in page


# --- loops ----------------------------------------------------------------------------------------------


def test_our_own_sender_address_with_a_display_name_is_still_recognised_as_ours(gemeente, settings):
    """DEFAULT_FROM_EMAIL may carry a display name; the loop rule 'afzender is ons eigen adres' compares the bare
    address, so our own letter coming back (with a Message-ID an ESP rewrote) is never registered or acknowledged."""
    settings.DEFAULT_FROM_EMAIL = "Gemeente Harlingen <info@harlingen.nl>"
    raw = (
        b"From: Gemeente Harlingen <info@harlingen.nl>\nTo: info@harlingen.nl\nSubject: Klacht over de balie (HLG-2099-000001)\n"
        b"Message-ID: <0100018c3f2a-5b1e@email.amazonses.com>\nDate: Wed, 02 Dec 2026 10:00:00 +0100\n"
        b"Content-Type: text/plain; charset=utf-8\n\nGeachte heer Dijkstra,\n\nWij hebben uw klacht over de lange wachttijd aan de balie ontvangen.\n"
    )
    result = email_intake(raw=raw, source="eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY
    assert not Registration.objects.exists()


def test_a_follow_up_to_other_mail_that_was_already_dealt_with_does_not_vanish(gemeente, settings):
    """A citizen's question (other mail, triage) was forwarded to the department; their next mail in the same thread,
    now a complaint, is registered as new mail instead of joining the forwarded item, where nobody looks."""
    from pathlib import Path

    from cases.intake.triage import triage_forward
    from cases.models import Case, TriageState

    first = (Path(__file__).parent / "fixtures" / "eml" / "other-question.eml").read_bytes()
    assert email_intake(raw=first, source="eml").outcome == InboundOutcome.TRIAGE
    registration = Registration.objects.get()
    triage_forward(registration_id=registration.pk, to="vergunningen@harlingen.nl", actor=officer())
    follow_up = (
        b"From: Akke Boersma <akke.boersma@gmail.com>\nTo: info@harlingen.nl\nSubject: Re: Vraag over melding klein evenement\n"
        b"Message-ID: <CAboersma-followup-2324@mail.gmail.com>\nIn-Reply-To: <CAboersma-other-2323@mail.gmail.com>\n"
        b"References: <CAboersma-other-2323@mail.gmail.com>\nDate: Mon, 07 Dec 2026 09:00:00 +0100\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Ik heb na drie weken nog steeds geen antwoord op mijn vraag. Ik wil hierover een klacht indienen: "
        b"niemand belt terug en aan de balie wist men van niets.\n"
    )
    email_intake(raw=follow_up, source="eml")
    registration.refresh_from_db()
    assert Case.objects.exists() or registration.triage_state == TriageState.PENDING, "the follow-up reached nobody"


def test_a_citizen_marking_our_mail_as_spam_is_noted_for_the_officer_once(gemeente, caplog):
    """An ESP's "complained" event (the citizen marked our letter as spam) is put on the case's timeline for the officer,
    once however often the ESP posts it, with a log line; the address stays as it is (a later letter the ESP then holds
    back comes as 'rejected', and goes by post)."""
    from anymail.signals import AnymailTrackingEvent

    from cases.intake.bounces import handle_tracking
    from cases.models import CaseEvent, OutgoingMessage, Registration
    from tests.factories import CaseFactory

    case = CaseFactory(explained=True, email="a.dijkstra@ziggo.nl")
    OutgoingMessage.objects.create(
        case=case, kind="other", channel="email", status="sent", dedupe_key=f"other-{case.pk}-x", automatic=False,
        to_email="a.dijkstra@ziggo.nl", subject="Brief", body_text="Onze brief.", message_id="<other.9@handvest.harlingen.nl>",
        provider_message_id="esp-456",
    )
    event = AnymailTrackingEvent(event_type="complained", message_id="esp-456", event_id="ev-9", recipient="a.dijkstra@ziggo.nl")
    with caplog.at_level("WARNING"):
        handle_tracking(sender=None, event=event, esp_name="Mailgun")
        handle_tracking(sender=None, event=event, esp_name="Mailgun")  # posted again
    (noted,) = CaseEvent.objects.filter(case=case, name="complained")
    assert noted.internal and "als ongewenst (spam)" in noted.note and "a.dijkstra@ziggo.nl" in noted.note
    assert not Registration.objects.get(pk=case.registration_id).email_undeliverable
    assert any("marked as spam" in record.getMessage() and case.registration.number in record.getMessage() for record in caplog.records)
