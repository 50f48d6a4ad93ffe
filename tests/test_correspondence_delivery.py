"""Delivery of letters: e-mail (anymail's test backend), PDF letters, good mail citizenship, exactly once."""

import datetime
import html
import io
import re
import shutil
import subprocess

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases.correspondence.bounces import outgoing_reroute_to_post
from cases.correspondence.composing import letter_compose
from cases.correspondence.delivery import (
    NOT_RESENDABLE,
    SEND_MAX_ATTEMPTS,
    DeliveryError,
    backoff_seconds,
    outgoing_requeue,
    outgoing_send,
)
from cases.correspondence.outbox import REASON_BOUNCED, REASON_NO_EMAIL, acknowledgement_queue, cases_missing_acknowledgement, letter_queue, outbox_due
from cases.correspondence.pdf import letter_render_pdf
from cases.correspondence.post import NOT_TO_PRINT, letters_mark_posted, outgoing_mark_printed
from cases.correspondence.steps import case_step_with_letter
from cases.correspondence.suppression import REASON_ANSWERED_AT_ONCE, REASON_AUTOMATIC_ADDRESS, REASON_RATE_LIMIT
from cases.models import CaseEvent, CaseState, EventKind, InboundMessage, OutboxStatus, OutgoingMessage, Registration, ReplyChannel
from cases.tasks import acknowledge, outbox_relay, send_outgoing_message
from cases.workflow.transitions import case_transition, case_waive_hearing
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


MM = 72 / 25.4  # PDF points per millimetre
A4_HEIGHT_MM = 297


@pytest.fixture
def anymail_test_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


class FlakyBackend(LocmemBackend):
    """Fails the first ``failures`` sends, then delivers (to mail.outbox)."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise ConnectionRefusedError("smtp.example.nl:587 refused the connection")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    """A mail server that fails; eager Celery then plays the task's retries in-process (no waiting)."""
    from config.celery import app

    settings.EMAIL_BACKEND = "tests.test_correspondence_delivery.FlakyBackend"
    FlakyBackend.calls = 0
    FlakyBackend.failures = 0
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield FlakyBackend
    app.conf.task_eager_propagates = propagates


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def acknowledgement_for(case):
    return acknowledgement_queue(case_id=case.pk)


def send(message) -> str:
    result = outgoing_send(outgoing_id=message.pk)
    message.refresh_from_db()
    return result


def answer_letter(case):
    """The answer letter goes with its step (hearing waived first): an answer letter on its own is refused."""
    case_waive_hearing(case_id=case.pk, ground="afgezien", reason="De indiener zag af van horen.", actor=officer())
    draft = letter_compose(case=case, kind="answer", findings="Bevinding.", judgement="Oordeel.", conclusions="Conclusie.")
    _case, letter = case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
    return letter


# --- e-mail ----------------------------------------------------------------------------------------
def test_email_carries_the_number_in_the_subject_and_our_message_id(gemeente, anymail_test_backend):
    case = CaseFactory(email="j.dijkstra@example.nl")
    message = acknowledgement_for(case)
    assert send(message) == "sent"
    (email,) = mail.outbox
    assert email.anymail_status.status == {"sent"}
    assert case.registration.number in email.subject
    assert email.to == ["j.dijkstra@example.nl"]
    assert email.extra_headers["Message-ID"] == message.message_id
    assert re.fullmatch(r"<[^@]+@handvest\.harlingen\.nl>", message.message_id)
    assert email.reply_to == ["info@harlingen.nl"]
    assert message.status == OutboxStatus.SENT and message.sent_at is not None and message.attempts == 1


def test_a_reply_threads_to_the_citizens_own_message(municipality):
    case = CaseFactory(email="piet@example.nl", channel="email")
    Registration.objects.filter(pk=case.registration_id).update(message_id="<abc123@mail.example.nl>")
    case.refresh_from_db()
    send(acknowledgement_for(case))
    (email,) = mail.outbox
    assert email.extra_headers["In-Reply-To"] == "<abc123@mail.example.nl>"
    assert email.extra_headers["References"] == "<abc123@mail.example.nl>"


def test_a_later_letter_references_the_thread_so_far(municipality):
    case = CaseFactory(email="piet@example.nl", channel="email")
    Registration.objects.filter(pk=case.registration_id).update(message_id="<first@mail.example.nl>")
    case.refresh_from_db()
    acknowledgement = acknowledgement_for(case)
    send(acknowledgement)
    InboundMessage.objects.create(source="eml", message_id="<second@mail.example.nl>", case=case, from_address="piet@example.nl")
    case = make_case_state(case, "explained")
    letter = answer_letter(case)
    assert letter.in_reply_to == "<second@mail.example.nl>"
    assert letter.references.split() == ["<first@mail.example.nl>", acknowledgement.message_id, "<second@mail.example.nl>"]


def make_case_state(case, state):
    actor = officer()
    for name, params in [("start_treatment", {"officer": actor}), ("explain", {})]:
        case = case_transition(case_id=case.pk, name=name, actor=actor, **params)
    return case


def test_automatic_letters_say_so_in_their_headers(municipality):
    case = CaseFactory(email="piet@example.nl")
    send(acknowledgement_for(case))
    (email,) = mail.outbox
    assert email.extra_headers["Auto-Submitted"] == "auto-replied"
    assert email.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert "Auto-Submitted: auto-replied" in email.message().as_string()


def test_an_officers_letter_is_not_marked_automatic(municipality):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    send(answer_letter(case))
    (email,) = mail.outbox
    assert "Auto-Submitted" not in email.extra_headers


def test_a_formal_letter_also_goes_as_pdf_attachment(municipality, anymail_test_backend):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    message = answer_letter(case)
    assert send(message) == "sent"
    (email,) = mail.outbox
    ((filename, content, mimetype),) = email.attachments
    assert filename == f"antwoord-{case.registration.number}.pdf" and mimetype == "application/pdf"
    text = pdf_text(content)
    assert "Antwoord op uw klacht" in text and "Nationale ombudsman" in text
    assert message.pdf.name.endswith(".pdf")  # archived with the letter


def test_an_informal_letter_has_no_attachment(municipality):
    case = CaseFactory(email="piet@example.nl")
    send(acknowledgement_for(case))
    assert mail.outbox[0].attachments == []


# --- PDF letters ------------------------------------------------------------------------------------
def test_without_an_email_address_the_letter_is_a_pdf_for_the_mailroom(gemeente):
    case = CaseFactory(email="")
    message = acknowledgement_for(case)
    assert send(message) == "to_print"
    assert mail.outbox == []
    assert message.status == OutboxStatus.TO_PRINT and message.channel == "post"
    assert message.last_error == str(REASON_NO_EMAIL)
    with message.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    registration = case.registration
    assert registration.number in text
    assert registration.sender_name in text
    assert "Postbus 10 000" in text  # the municipality's details
    assert f"/zaak/{case.public_token}/" in text


def _word_boxes(data: bytes, tmp_path) -> list[tuple[str, float, float, float, float]]:
    """(word, left, top, right, bottom) in mm on page 1, as poppler's pdftotext -bbox reads the PDF."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    xhtml = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"], check=True, capture_output=True, text=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(html.unescape(word), *(float(v) / MM for v in box)) for *box, word in re.findall(pattern, xhtml)]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext from Debian's poppler-utils (installed by make)")
def test_the_pdf_is_a4_with_the_address_in_the_envelope_window(municipality, tmp_path):
    case = CaseFactory(email="")
    Registration.objects.filter(pk=case.registration_id).update(sender_name="Fam. Hoekstra", sender_address="Voorstraat 1\n8861 BK Harlingen")
    case.refresh_from_db()
    message = acknowledgement_for(case)
    pdf = letter_render_pdf(case=case, subject=message.subject, body_text=message.body_text, kind=message.kind)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width) / MM), round(float(page.mediabox.height) / MM)) == (210, 297)
    boxes = _word_boxes(pdf, tmp_path)
    # DIN 5008 form B window: 20-110 mm from the left, 45-90 mm from the top.
    for word in ("Fam.", "Hoekstra", "Voorstraat", "8861", "BK"):
        (left, top, right, bottom) = next(box for text, *box in boxes if text == word)
        assert left >= 20 and right <= 110 and top >= 45 and bottom <= 90, (word, left, top, right, bottom)
    (left, top, right, bottom) = next(box for text, *box in boxes if text == "Datum")
    assert top > 90  # the rest of the letter starts below the window


def test_a_bounced_address_gets_the_letter_by_post_and_the_officer_sees_why(municipality):
    case = CaseFactory(email="weg@example.nl")
    Registration.objects.filter(pk=case.registration_id).update(email_undeliverable=True)
    message = acknowledgement_for(case)
    assert send(message) == "to_print"
    assert mail.outbox == []
    assert message.last_error == str(REASON_BOUNCED % {"address": "weg@example.nl"})


def test_a_citizen_who_wants_post_gets_post(municipality):
    case = CaseFactory(email="piet@example.nl")
    Registration.objects.filter(pk=case.registration_id).update(reply_channel=ReplyChannel.POST)
    assert send(acknowledgement_for(case)) == "to_print"
    assert mail.outbox == []


def test_a_letter_that_bounces_for_good_goes_again_by_post(municipality, django_capture_on_commit_callbacks):
    case = CaseFactory(email="weg@example.nl")
    message = acknowledgement_for(case)
    send(message)
    with django_capture_on_commit_callbacks(execute=True):
        # What the intake's bounce handler does when a permanent bounce of our letter comes in.
        Registration.objects.filter(pk=case.registration_id).update(email_undeliverable=True)
        first = outgoing_reroute_to_post(message_id=message.message_id)
        again = outgoing_reroute_to_post(message_id=message.message_id)
    assert first.pk == again.pk
    copy = OutgoingMessage.objects.exclude(pk=message.pk).get(case=case)
    assert (copy.kind, copy.channel, copy.status) == ("acknowledgement", "post", OutboxStatus.TO_PRINT)
    assert copy.body_text == message.body_text
    assert copy.last_error == str(REASON_BOUNCED % {"address": "weg@example.nl"})


def test_the_mailroom_marks_a_printed_letter(municipality):
    case = CaseFactory(email="")
    message = acknowledgement_for(case)
    send(message)
    printed = outgoing_mark_printed(outgoing_id=message.pk, actor=officer())
    assert printed.status == OutboxStatus.PRINTED and printed.printed_at is not None


# --- good mail citizenship -------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["noreply@example.nl", "no-reply@bank.example", "postmaster@example.nl", "MAILER-DAEMON@mx.example.nl"])
def test_nothing_automatic_goes_to_machine_addresses(municipality, address):
    case = CaseFactory(email=address)
    message = acknowledgement_for(case)
    assert send(message) == "suppressed"
    assert mail.outbox == []
    assert message.last_error == str(REASON_AUTOMATIC_ADDRESS % {"address": address})


def test_an_officer_may_still_write_to_such_an_address(municipality):
    case = CaseFactory(in_treatment=True, email="noreply@example.nl")
    message = letter_queue(case_id=case.pk, kind="other", subject="Bericht", body_text="Beste inwoner, tekst.", actor=officer())
    assert send(message) == "sent"


def test_at_most_a_few_automatic_mails_an_hour_to_one_address(municipality, settings):
    settings.HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR = 2
    results = [send(acknowledgement_for(CaseFactory(email="Druk@Example.nl" if i % 2 else "druk@example.nl"))) for i in range(4)]
    assert results == ["sent", "sent", "suppressed", "suppressed"]
    assert len(mail.outbox) == 2
    last = OutgoingMessage.objects.order_by("pk").last()
    assert last.last_error == str(REASON_RATE_LIMIT % {"count": 2, "address": "Druk@Example.nl"})


def test_the_hourly_limit_counts_only_the_last_hour(municipality, settings):
    settings.HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR = 1
    first = acknowledgement_for(CaseFactory(email="druk@example.nl"))
    send(first)
    OutgoingMessage.objects.filter(pk=first.pk).update(sent_at=timezone.now() - datetime.timedelta(minutes=61))
    assert send(acknowledgement_for(CaseFactory(email="druk@example.nl"))) == "sent"


# --- the timeline and the workflow -----------------------------------------------------------------
def test_a_sent_letter_is_listed_on_the_citizens_private_page(municipality, client):
    case = CaseFactory(email="piet@example.nl")
    send(acknowledgement_for(case))
    event = CaseEvent.objects.get(case=case, kind=EventKind.MESSAGE_OUT)
    assert (event.internal, event.note) == (False, "Ontvangstbevestiging")
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Ontvangstbevestiging" in html


def test_sending_the_acknowledgement_acknowledges_the_case_by_the_system(municipality):
    case = CaseFactory(email="piet@example.nl")
    send(acknowledgement_for(case))
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    transition = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION, name="acknowledge")
    assert transition.actor is None


def test_a_pdf_acknowledgement_acknowledges_the_case_only_when_the_mailroom_posted_it(municipality, client):
    case = CaseFactory(email="")
    message = acknowledgement_for(case)
    assert send(message) == "to_print"
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED  # queued for the mailroom is not sent
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).exists()
    page = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Wij hebben u nog geen brief gestuurd" in page
    outgoing_mark_printed(outgoing_id=message.pk, actor=officer())
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED  # printed is not posted either
    letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=officer())
    case.refresh_from_db()
    message.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED and message.status == OutboxStatus.POSTED
    assert CaseEvent.objects.get(case=case, kind=EventKind.MESSAGE_OUT).at == message.posted_at
    assert "Wij hebben u nog geen brief gestuurd" not in client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


# --- exactly once ----------------------------------------------------------------------------------
def test_a_task_delivered_twice_sends_once(municipality):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "sent"
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "skipped"
    assert len(mail.outbox) == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).count() == 1


def test_the_receiver_writes_one_acknowledgement_however_often_it_runs(municipality):
    case = CaseFactory()
    first, second = acknowledgement_for(case), acknowledgement_for(case)
    assert first.pk == second.pk
    assert OutgoingMessage.objects.filter(case=case).count() == 1


def test_registration_writes_the_acknowledgement_after_commit(municipality, django_capture_on_commit_callbacks, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    with django_capture_on_commit_callbacks(execute=True):
        case = CaseFactory(email="piet@example.nl")
    message = OutgoingMessage.objects.get(case=case)
    assert (message.dedupe_key, message.automatic, message.status) == (f"case:{case.pk}:acknowledgement", True, OutboxStatus.SENT)
    assert len(mail.outbox) == 1


def test_a_held_acknowledgement_waits_for_the_relay(municipality, django_capture_on_commit_callbacks, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 60
    with django_capture_on_commit_callbacks(execute=True):
        case = CaseFactory(email="piet@example.nl")
    message = OutgoingMessage.objects.get(case=case)
    assert message.status == OutboxStatus.QUEUED and mail.outbox == []
    assert outbox_due() == []
    assert outbox_due(now=timezone.now() + datetime.timedelta(minutes=61)) == [message.pk]
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=61))
    assert outbox_relay.apply().get() == {"written": 0, "queued": 1, "unknown": 0}
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and len(mail.outbox) == 1


def test_the_relay_writes_an_acknowledgement_the_receiver_missed(municipality):
    case = CaseFactory(email="piet@example.nl")  # on_commit does not run here: no acknowledgement yet
    Registration.objects.filter(pk=case.registration_id).update(registered_at=timezone.now() - datetime.timedelta(minutes=10))
    assert cases_missing_acknowledgement() == [case.pk]
    outbox_relay.apply().get()
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").count() == 1
    assert cases_missing_acknowledgement() == []


def test_the_relay_requeues_a_letter_whose_queueing_was_lost(municipality):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    message = letter_queue(case_id=case.pk, kind="other", subject="Bericht", body_text="Beste inwoner, tekst.", actor=officer())
    assert message.pk not in outbox_due()
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=6))
    assert message.pk in outbox_due()


@pytest.fixture
def queued_sends(monkeypatch):
    """The send tasks queued, as (outbox id, countdown), instead of run."""
    queued = []
    monkeypatch.setattr(send_outgoing_message, "apply_async", lambda args, kwargs=None, countdown=None, **_: queued.append((args[0], countdown)))
    return queued


def test_the_acknowledgement_task_sends_what_it_wrote_without_queueing_a_send(municipality, settings, queued_sends, django_capture_on_commit_callbacks):
    """A send task queued behind every acknowledgement written meanwhile would hold the letter back in a burst."""
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    case = CaseFactory(email="piet@example.nl")
    with django_capture_on_commit_callbacks(execute=True):  # what it queues after its commits is queued
        assert acknowledge.apply(args=(case.pk,)).get() == "sent"
    message = OutgoingMessage.objects.get(case=case)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert len(mail.outbox) == 1 and queued_sends == []
    assert acknowledge.apply(args=(case.pk,)).get() == "sent"  # delivered again: found sent, nothing more
    assert len(mail.outbox) == 1 and OutgoingMessage.objects.filter(case=case).count() == 1


def test_a_held_acknowledgement_is_written_by_the_task_but_not_sent(municipality, settings, queued_sends, django_capture_on_commit_callbacks):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 60
    case = CaseFactory(email="piet@example.nl")
    with django_capture_on_commit_callbacks(execute=True):
        assert acknowledge.apply(args=(case.pk,)).get() == "queued"
    assert mail.outbox == [] and queued_sends == []


def test_a_refused_acknowledgement_goes_to_the_send_tasks_retries(municipality, settings, flaky, queued_sends):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    flaky.failures = 1
    case = CaseFactory(email="piet@example.nl")
    assert acknowledge.apply(args=(case.pk,)).get() == "retrying"
    message = OutgoingMessage.objects.get(case=case)
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 1)
    assert "Poging 1 mislukt" in message.last_error and "ConnectionRefusedError" in message.last_error
    [(queued_pk, countdown)] = queued_sends
    assert queued_pk == message.pk and 58 <= countdown <= 60 and mail.outbox == []
    assert abs((message.retry_at - timezone.now()).total_seconds() - 60) < 3
    # Delivered again before the retry is due: the row is in the retry chain, so it waits for it.
    assert acknowledge.apply(args=(case.pk,)).get() == "queued" and flaky.calls == 1
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "sent"
    assert len(mail.outbox) == 1


def test_an_acknowledgement_written_by_a_worker_that_died_is_sent_by_the_redelivered_task(municipality, settings, queued_sends):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    case = CaseFactory(email="piet@example.nl")
    written = acknowledgement_queue(case_id=case.pk, queue_sending=False)  # the write committed, then SIGKILL
    assert written.status == OutboxStatus.QUEUED and mail.outbox == []
    assert acknowledge.apply(args=(case.pk,)).get() == "sent"  # acks_late: the task comes again
    assert OutgoingMessage.objects.get(case=case).pk == written.pk and len(mail.outbox) == 1
    assert written.pk not in outbox_due(now=timezone.now() + datetime.timedelta(minutes=10))


def test_an_acknowledgement_whose_task_was_lost_after_the_write_is_sent_by_the_relay(municipality, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    case = CaseFactory(email="piet@example.nl")
    written = acknowledgement_queue(case_id=case.pk, queue_sending=False)
    assert written.pk not in outbox_due()
    assert outbox_due(now=timezone.now() + datetime.timedelta(minutes=6)) == [written.pk]


def test_a_send_error_is_retried_and_the_letter_goes_once(municipality, flaky):
    flaky.failures = 2
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 3, "")
    assert len(mail.outbox) == 1
    assert flaky.calls == 3


def test_a_letter_that_keeps_failing_is_marked_failed_with_the_error(municipality, flaky):
    flaky.failures = 100
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "failed"
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == SEND_MAX_ATTEMPTS and message.retry_at is None
    assert "ConnectionRefusedError" in message.last_error and "smtp.example.nl:587" in message.last_error
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED  # not acknowledged: nothing went out


def test_retries_back_off(municipality):
    assert [backoff_seconds(attempts) for attempts in range(1, 5)] == [60, 120, 240, 480]


def test_a_worker_that_dies_after_a_refusal_leaves_a_row_the_relay_takes_when_it_is_due(municipality, flaky):
    """The row says when its next attempt is due in the commit that queues it again: a worker killed
    before its task could retry loses nothing, and the letter waits minutes, not the old two hours."""
    flaky.failures = 1
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    with pytest.raises(DeliveryError):
        outgoing_send(outgoing_id=message.pk)  # then SIGKILL: no failure recorded, no retry queued
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 1)
    assert abs((message.retry_at - timezone.now()).total_seconds() - backoff_seconds(1)) < 3
    assert message.pk not in outbox_due(now=timezone.now() + datetime.timedelta(minutes=5))
    assert message.pk in outbox_due(now=timezone.now() + datetime.timedelta(minutes=7))


def test_the_relay_leaves_a_letter_alone_while_its_retry_chain_waits(municipality, flaky):
    """A letter written hours ago that is still backing off is not sent early beside its own retry."""
    flaky.failures = 1
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    with pytest.raises(DeliveryError):
        outgoing_send(outgoing_id=message.pk)
    waiting = timezone.now() + datetime.timedelta(minutes=8)
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3), attempts=5, retry_at=waiting)
    assert message.pk not in outbox_due(now=timezone.now() + datetime.timedelta(minutes=10))
    assert message.pk in outbox_due(now=waiting + datetime.timedelta(minutes=6))


def test_a_row_refused_by_a_worker_of_the_release_before_is_taken_as_that_release_did(municipality):
    """During a rolling deploy an old worker queues a refused row again without retry_at."""
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    OutgoingMessage.objects.filter(pk=message.pk).update(attempts=1, retry_at=None, created_at=timezone.now() - datetime.timedelta(minutes=119))
    assert message.pk not in outbox_due()
    assert message.pk in outbox_due(now=timezone.now() + datetime.timedelta(minutes=2))


def test_the_back_off_follows_the_rows_attempts_not_the_tasks_retries(municipality, settings, flaky, queued_sends, monkeypatch):
    """After the acknowledgement's own refused attempt, the send task's first retry waits two minutes, not one again."""
    from celery.exceptions import Retry

    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    flaky.failures = 100
    case = CaseFactory(email="piet@example.nl")
    assert acknowledge.apply(args=(case.pk,)).get() == "retrying"
    message = OutgoingMessage.objects.get(case=case)
    countdowns = []
    monkeypatch.setattr(send_outgoing_message, "retry", lambda exc=None, countdown=None, **_: countdowns.append(countdown) or Retry("captured"))
    send_outgoing_message.apply(args=(message.pk,))  # the chain's first task: request.retries is 0
    message.refresh_from_db()
    assert message.attempts == 2 and len(countdowns) == 1
    assert backoff_seconds(2) - 2 <= countdowns[0] <= backoff_seconds(2)
    assert abs((message.retry_at - timezone.now()).total_seconds() - backoff_seconds(2)) < 3


def test_an_officer_requeues_a_failed_letter(municipality, flaky):
    flaky.failures = 100
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    send_outgoing_message.apply(args=(message.pk,))
    flaky.failures = 0
    requeued = outgoing_requeue(outgoing_id=message.pk, actor=officer())
    assert (requeued.attempts, requeued.retry_at) == (0, None)
    assert send_outgoing_message.apply(args=(message.pk,)).get() == "sent"
    assert len(mail.outbox) == 1


# --- the charter's exception -----------------------------------------------------------------------
@pytest.mark.parametrize("step", [("resolve_informally", {}), ("withdraw", {}), ("forward", {"to": "Wetterskip Fryslân"})])
def test_no_acknowledgement_when_the_question_is_settled_before_it_goes(municipality, step):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    name, params = step
    case_transition(case_id=case.pk, name=name, actor=officer(), **params)
    message.refresh_from_db()  # withheld by the step itself, in its transaction (out of the outbox and the print queue)
    assert (message.status, message.last_error) == (OutboxStatus.SUPPRESSED, str(REASON_ANSWERED_AT_ONCE))
    assert send(message) != "sent"
    assert mail.outbox == []
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).exists()


def test_the_acknowledgement_goes_when_the_case_is_still_being_handled(municipality):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    case_transition(case_id=case.pk, name="acknowledge", actor=officer())  # acknowledged by phone, letter still due
    assert send(message) == "sent"


def test_without_a_worker_a_failed_send_stays_queued_for_the_relay(municipality, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.test_correspondence_delivery.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 1
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    with django_capture_on_commit_callbacks(execute=True):
        message = letter_queue(case_id=case.pk, kind="other", subject="Bericht", body_text="Beste inwoner, tekst.", actor=officer())
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 1)
    assert "Poging 1 mislukt" in message.last_error and "ConnectionRefusedError" in message.last_error
    # Due a minute after the refusal; the relay takes it five minutes after that, not hours later.
    assert message.pk not in outbox_due(now=timezone.now() + datetime.timedelta(minutes=5))
    assert message.pk in outbox_due(now=timezone.now() + datetime.timedelta(minutes=7))
    assert send(message) == "sent"
    message.refresh_from_db()
    assert message.retry_at is None


def test_a_letter_that_was_sent_cannot_be_requeued(municipality):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    send(message)
    with pytest.raises(ValidationError) as excinfo:
        outgoing_requeue(outgoing_id=message.pk, actor=officer())
    assert str(NOT_RESENDABLE % {"status": OutboxStatus.SENT.label}) in str(excinfo.value)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


def test_only_a_letter_waiting_to_be_printed_can_be_marked_printed(municipality):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_for(case)
    with pytest.raises(ValidationError) as excinfo:
        outgoing_mark_printed(outgoing_id=message.pk, actor=officer())
    assert str(NOT_TO_PRINT % {"status": OutboxStatus.QUEUED.label}) in str(excinfo.value)
    message.refresh_from_db()
    assert message.status == OutboxStatus.QUEUED and message.printed_at is None


def test_an_editor_may_not_mark_letters_printed(municipality):
    case = CaseFactory(email="")
    message = acknowledgement_for(case)
    send(message)
    with pytest.raises(PermissionDenied):
        outgoing_mark_printed(outgoing_id=message.pk, actor=UserFactory(username="red", role=EDITORS))
    message.refresh_from_db()
    assert message.status == OutboxStatus.TO_PRINT


def test_a_task_for_a_letter_that_does_not_exist_does_nothing(municipality):
    assert send_outgoing_message.apply(args=(987654,)).get() == "missing"
    assert mail.outbox == []
