"""The outbox's claim: a letter is committed as 'sending' before the mail provider is called, so a
worker that dies while sending never leads to a second mail (issue: nothing lost, nothing doubled)."""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from cases import dispatch
from cases.correspondence.delivery import REASON_UNKNOWN, RESENDABLE, outgoing_mark_unknown, outgoing_requeue, outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.models import CaseEvent, CaseState, EventKind, OutboxStatus, OutgoingMessage
from cases.tasks import outbox_relay
from config.celery import app
from tests.factories import CaseFactory, officer
from tests.test_correspondence_delivery import FlakyBackend

pytestmark = pytest.mark.django_db


class SeeTheRowBackend(LocmemBackend):
    """Records the outbox row's committed status at the moment the provider is called."""

    seen: list[tuple[str, str]] = []

    def send_messages(self, messages):
        for message in messages:
            row = OutgoingMessage.objects.get(message_id=message.extra_headers["Message-ID"])
            SeeTheRowBackend.seen.append((row.status, row.claim_token))
        return super().send_messages(messages)


class DiesWhileSending(LocmemBackend):
    """The worker is killed after the provider took the mail, before the row is marked sent."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise SystemExit("killed")


def acknowledgement(case):
    return acknowledgement_queue(case_id=case.pk)


def test_the_row_is_committed_as_sending_with_a_claim_before_the_provider_is_called(municipality, settings):
    settings.EMAIL_BACKEND = "tests.test_outbox_claim.SeeTheRowBackend"
    SeeTheRowBackend.seen = []
    message = acknowledgement(CaseFactory(email="piet@example.nl"))
    assert outgoing_send(outgoing_id=message.pk) == "sent"
    ((status, token),) = SeeTheRowBackend.seen
    assert status == OutboxStatus.SENDING and len(token) == 32
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.claim_token == token


def test_a_worker_that_dies_while_sending_leaves_the_row_sending_and_a_redelivery_does_not_send_again(municipality, settings):
    settings.EMAIL_BACKEND = "tests.test_outbox_claim.DiesWhileSending"
    message = acknowledgement(CaseFactory(email="piet@example.nl"))
    with pytest.raises(SystemExit):
        outgoing_send(outgoing_id=message.pk)
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outgoing_send(outgoing_id=message.pk) == "skipped"  # acks_late delivered the task again
    assert len(mail.outbox) == 1


def test_the_relay_shows_an_interrupted_send_as_unknown_and_never_sends_it_blindly(municipality, settings):
    settings.EMAIL_BACKEND = "tests.test_outbox_claim.DiesWhileSending"
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement(case)
    with pytest.raises(SystemExit):
        outgoing_send(outgoing_id=message.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outgoing_mark_unknown() == []  # not yet: the worker may still be busy
    OutgoingMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=settings.HANDVEST_SEND_CLAIM_TIMEOUT_MINUTES + 1)
    )
    assert outbox_relay.apply().get()["unknown"] == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == (OutboxStatus.UNKNOWN, str(REASON_UNKNOWN))
    assert outbox_relay.apply().get() == {"written": 0, "queued": 0, "unknown": 0}
    assert len(mail.outbox) == 1


def test_an_officer_resends_an_unknown_letter_with_its_own_message_id(municipality, settings):
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement(case)
    OutgoingMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.UNKNOWN)
    assert OutboxStatus.UNKNOWN in RESENDABLE
    outgoing_requeue(outgoing_id=message.pk, actor=officer())
    assert outgoing_send(outgoing_id=message.pk) == "sent"
    assert mail.outbox[-1].extra_headers["Message-ID"] == message.message_id
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).count() == 1


def test_a_provider_that_refuses_releases_the_claim_so_the_retry_can_send(municipality, settings):
    settings.EMAIL_BACKEND = "tests.test_correspondence_delivery.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 1
    message = acknowledgement(CaseFactory(email="piet@example.nl"))
    with pytest.raises(Exception, match="ConnectionRefusedError"):
        outgoing_send(outgoing_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.claim_token, message.attempts) == (OutboxStatus.QUEUED, "", 1)
    assert outgoing_send(outgoing_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_citizen_mail_has_its_own_queue_and_housekeeping_the_default_one():
    routes = app.conf.task_routes
    assert {name: routes[name]["queue"] for name in dispatch.MAIL_TASKS} == dict.fromkeys(dispatch.MAIL_TASKS, dispatch.MAIL_QUEUE)
    for housekeeping in (dispatch.REFRESH_AGGREGATES, dispatch.REBUILD_AGGREGATES, dispatch.TAG_CASE, dispatch.RETRAIN_TAGGER):
        assert housekeeping not in routes and app.conf.task_default_queue == dispatch.HOUSEKEEPING_QUEUE
