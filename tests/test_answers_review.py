"""The officer's answer to the citizen and what goes out, exactly once: an ESP whose answer never comes,
closing before the answer left, an answer letter without its step, a double click on the composer's
"Versturen", a letter that cannot be made, and the interim notice of a reopened complaint."""

import datetime
import errno

import pytest
from anymail.exceptions import AnymailRequestsAPIError
from django.contrib.messages import get_messages
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import reverse
from django.utils import timezone
from requests.exceptions import ConnectTimeout, ReadTimeout

from cases.conversation.reopening import reopen_decide
from cases.conversation.satisfaction import survey_answer, survey_ask
from cases.correspondence.composing import letter_compose
from cases.correspondence.delivery import DeliveryError, outgoing_send
from cases.correspondence.outbox import outbox_due
from cases.correspondence.steps import case_extend_with_notice, case_step_with_letter
from cases.errors import WorkflowError
from cases.models import Case, CaseState, LetterKind, OutboxStatus, OutgoingMessage, ReopenRequest
from cases.storage import PrivateStorage
from cases.tasks import send_outgoing_message
from cases.workflow.deadline_scan import deadline_scan
from cases.workflow.transitions import case_waive_hearing
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------
def ready_to_answer(**kwargs):
    """A complaint in treatment whose hearing was waived: the answer may go."""
    case = CaseFactory(in_treatment=True, **kwargs)
    case_waive_hearing(case_id=case.pk, ground="afgezien", reason="De indiener zag af van horen.", actor=officer())
    case.refresh_from_db()
    return case


def answer_draft(case):
    return letter_compose(case=case, kind=LetterKind.ANSWER, findings="Bevinding.", judgement="Oordeel.", conclusions="Conclusie.", outcome="gegrond")


def answer_with_letter(case, actor=None):
    """The officer's "Beantwoorden" with its answer letter (Awb 9:12), in one transaction."""
    draft = answer_draft(case)
    _case, letter = case_step_with_letter(
        case_id=case.pk, name="answer", kind=LetterKind.ANSWER, subject=draft.subject, body_text=draft.body_text, actor=actor or officer()
    )
    return letter


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def eager_retries(settings):
    """Eager Celery plays the send task's retries in-process; a failing task returns instead of raising."""
    from config.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


class AcceptsThenTimesOut(LocmemBackend):
    """An ESP (anymail, over HTTPS) that accepts the message, but whose answer never reaches us: the
    request times out reading the response. The mail is on its way to the citizen all the same."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise AnymailRequestsAPIError(
            "Error posting to https://api.eu.mailgun.net/v3/mg.harlingen.nl/messages: Read timed out. (read timeout=30)"
        ) from ReadTimeout("HTTPSConnectionPool(host='api.eu.mailgun.net', port=443): Read timed out. (read timeout=30)")


class AlwaysRefuses(LocmemBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp.harlingen.nl:587 refused the connection")


# --- exactly once --------------------------------------------------------------------------------
def test_an_esp_that_times_out_after_accepting_the_answer_does_not_get_it_again(municipality, settings, eager_retries):
    """Rule: the answer e-mail reaches the citizen once. When the ESP took the mail but its response
    timed out, whether it went is unknown: it is not sent again blindly (README "Nothing lost, nothing
    doubled": a letter whose sending was interrupted is shown as *verzonden? onbekend*, never resent blindly)."""
    settings.EMAIL_BACKEND = "tests.test_answers_review.AcceptsThenTimesOut"
    case = ready_to_answer(email="h.postma@ziggo.nl")
    letter = answer_with_letter(case)
    send_outgoing_message.apply(args=(letter.pk,))
    answers = [m for m in mail.outbox if m.extra_headers.get("Message-ID") == letter.message_id]
    assert len(answers) == 1, f"the citizen received the answer {len(answers)} times"
    letter.refresh_from_db()
    assert letter.status == OutboxStatus.UNKNOWN and "onbekend" in letter.last_error.lower()  # shown to the officers, who may resend


class NeverConnects(LocmemBackend):
    def send_messages(self, messages):
        raise AnymailRequestsAPIError("Error posting to https://api.eu.mailgun.net/v3/mg.harlingen.nl/messages") from ConnectTimeout("connect timed out")


def test_an_esp_that_could_not_be_reached_is_tried_again(municipality, settings):
    """A connection that was never made sent nothing: the letter is queued again for its next attempt, not 'unknown'."""
    settings.EMAIL_BACKEND = "tests.test_answers_review.NeverConnects"
    case = ready_to_answer(email="h.postma@ziggo.nl")
    letter = answer_with_letter(case)
    with pytest.raises(DeliveryError):
        outgoing_send(outgoing_id=letter.pk)
    letter.refresh_from_db()
    assert (letter.status, letter.attempts) == (OutboxStatus.QUEUED, 1) and letter.retry_at is not None


# --- closing -------------------------------------------------------------------------------------
def test_a_complaint_whose_answer_letter_failed_cannot_be_closed(officer_client, municipality, settings, eager_retries, handler):
    """Rule: a complaint is closed only once its answer went out (or is on its way); closing it while the
    answer never left is refused with a clear Dutch message, so no citizen is left without the answer
    Awb 9:12 owes them while the case says 'afgesloten, gegrond'."""
    settings.EMAIL_BACKEND = "tests.test_answers_review.AlwaysRefuses"
    case = ready_to_answer(email="h.postma@ziggo.nl")
    letter = answer_with_letter(case)
    send_outgoing_message.apply(args=(letter.pk,))
    letter.refresh_from_db()
    assert letter.status == OutboxStatus.FAILED  # the answer never left
    response = officer_client.post(
        reverse("handvest_workspace:case_action", args=[case.pk, "transition"]),
        {"name": "close", "expected_state": CaseState.ANSWERED, "outcome": "gegrond", "note": ""},
    )
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED, f"closed although the answer never left; the officer was told: {shown(response)}"
    assert any("Afsluiten kan nog niet: de antwoordbrief is niet verstuurd" in m for m in shown(response)), shown(response)


# --- state and letter agree ----------------------------------------------------------------------
def test_an_answer_letter_cannot_go_without_the_answer_step(officer_client, municipality, handler):
    """Rule: the case and its letters agree: the answer letter (Awb 9:12) goes with the step 'Beantwoorden',
    so an answered case has its answer, and an answer only goes once the complainant was heard (Awb 9:10)
    (cases/correspondence/steps.py: "an answer goes out as the answer letter")."""
    case = CaseFactory(acknowledged=True, email="h.postma@ziggo.nl", actor=handler)
    draft = answer_draft(case)
    response = officer_client.post(
        reverse("handvest_workspace:compose", args=[case.pk]),
        {"action": "send", "kind": LetterKind.ANSWER, "step": "", "expected_state": case.state, "subject": draft.subject, "body_text": draft.body_text},
    )
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert not OutgoingMessage.objects.filter(case=case, kind=LetterKind.ANSWER).exists()
    assert any("gaat mee met zijn stap" in m and "niets verstuurd" in m for m in shown(response)), shown(response)
    page = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert f'<option value="{LetterKind.ANSWER.value}">' not in page and f'<option value="{LetterKind.OTHER.value}">' in page  # not offered on its own


# --- double click ----------------------------------------------------------------------------------
def test_a_double_click_on_send_answer_does_not_tell_the_officer_it_was_not_saved(officer_client, municipality, handler):
    """Rule: a double click on "Versturen" of the answer sends it once and tells the officer it went; it does
    not blame a colleague nor say the change was not saved (README, the workspace: "The second click of a
    double click finds its step taken by the same officer a moment ago and says it went well")."""
    case = ready_to_answer(email="h.postma@ziggo.nl", actor=handler)
    draft = answer_draft(case)
    data = {"action": "send", "kind": LetterKind.ANSWER, "step": "answer", "expected_state": case.state, "subject": draft.subject, "body_text": draft.body_text}
    url = reverse("handvest_workspace:compose", args=[case.pk])
    first = officer_client.post(url, data)
    second = officer_client.post(url, data)
    case.refresh_from_db()
    assert first.status_code == 302 and case.state == CaseState.ANSWERED
    assert OutgoingMessage.objects.filter(case=case, kind=LetterKind.ANSWER).count() == 1
    messages = shown(second)
    assert not any("collega" in m or "niet opgeslagen" in m for m in messages), messages
    assert second.status_code == 302 and any("gelukt" in m for m in messages), messages


# --- a failed send surfaces ------------------------------------------------------------------------
def test_an_answer_letter_that_cannot_be_made_is_retried_and_then_shown_as_failed(municipality, eager_retries, monkeypatch):
    """Rule: a letter that cannot go is retried, and when the retries are spent it is 'mislukt', listed in
    the officers' digest with the error; it is never left looping unseen (README: "Send errors are
    retried 6 times ...; then the letter is 'mislukt' with the error, listed in the digest").

    Scenario: the answer to a citizen without e-mail becomes a PDF letter for the mailroom; the volume
    that holds the letters is full (ENOSPC) for the afternoon. The send task and every run of beat's
    outbox relay fail on it."""

    def disk_full(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PrivateStorage, "_save", disk_full)
    case = ready_to_answer(email="", address="Noorderhaven 12\n8861 AL Harlingen")
    letter = answer_with_letter(case)
    send_outgoing_message.apply(args=(letter.pk,))
    now = timezone.now()
    for run in range(1, 13):  # an afternoon of beat's outbox relay, every few minutes and past every back-off
        for outgoing_id in outbox_due(now=now + datetime.timedelta(minutes=70 * run)):
            send_outgoing_message.apply(args=(outgoing_id,))
    letter.refresh_from_db()
    failed = [item.number for item in deadline_scan().failed_letters]
    assert letter.status == OutboxStatus.FAILED and case.registration.number in failed, (
        f"after 13 tries the answer is still '{letter.get_status_display()}' with {letter.attempts} attempts, "
        f"error {letter.last_error!r}; the digest lists {failed}"
    )


# --- the interim notice ----------------------------------------------------------------------------
def test_a_reopened_complaint_can_be_extended_with_an_interim_notice_while_its_new_term_runs(gemeente):
    """Rule (charter POST-REACTIE, Awb 9:11 lid 2): when the answer will not make its term, the citizen gets an
    interim notice saying why and until when, before that term ends. A reopened complaint is answered within
    a new term of six weeks from the day it was reopened (README, the conversation); the daily digest
    lists it under "tussenbericht nodig" when that term is about to end.

    Scenario: a complaint received in the summer, answered and closed; the citizen was not satisfied and the
    officer reopened it today. Within the new term the officer sees that the department needs more time and
    extends the term, with the interim notice."""
    received = timezone.localdate() - datetime.timedelta(days=120)
    case = CaseFactory(closed=True, received_on=received, email="h.postma@ziggo.nl")
    survey_ask(case_id=case.pk)
    survey_answer(case_id=case.pk, score=1, reason="Er is niets veranderd.")
    reopen_decide(case_id=case.pk, request_id=ReopenRequest.objects.get(case=case).pk, reopen=True, explanation="", actor=officer())
    case = Case.objects.get(pk=case.pk)
    assert case.state == CaseState.IN_TREATMENT and case.reopened_answer_due > timezone.localdate()  # the new term runs
    almost_due = case.reopened_answer_due - datetime.timedelta(days=2)
    digest = [item.number for item in deadline_scan(today=almost_due).interim_notice_needed]
    assert case.registration.number in digest  # the digest asks for an interim notice
    try:
        case_extend_with_notice(
            case_id=case.pk,
            new_due=case.reopened_answer_due + datetime.timedelta(days=14),
            reason="De afdeling Wegen moet de opnamen nog nakijken.",
            actor=officer(),
        )
    except WorkflowError as exc:
        pytest.fail(f"the reopened complaint's term cannot be extended with an interim notice: {exc}")
    assert OutgoingMessage.objects.filter(case=case, kind=LetterKind.INTERIM_NOTICE).count() == 1
