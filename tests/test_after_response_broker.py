"""With a worker (gunicorn and a broker): a request's tasks go onto the broker after its response.

A WSGI server sends the response and only then calls its ``close()``; Django's test client does the
same. The citizen and the mail provider are answered once the submission is committed; putting the
task on the broker (a network round trip, or a timeout when the broker is down) is not part of their
wait, and what it would have started is taken up by the relays when it fails.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from celery import current_app
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from cases import dispatch
from cases.correspondence.outbox import cases_missing_acknowledgement
from cases.intake import webhooks
from cases.intake.email import inbound_pending
from cases.intake.web_submissions import submission_register, submissions_waiting
from cases.models import Case, InboundMessage, Registration, WebSubmission
from cases.tasks import inbound_relay
from tests.test_eager_after_response import FORM

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)



class Broker:
    """The broker's side of ``apply_async``: what was published, and whether it is reachable."""

    def __init__(self) -> None:
        self.published: list[tuple[str, tuple, int | None]] = []
        self.down = False

    def publish(self, name, args, kwargs=None, countdown=None, **options):
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((name, tuple(args), countdown))


@pytest.fixture
def broker(monkeypatch):
    broker = Broker()
    for name in (dispatch.REGISTER_WEB, dispatch.ACKNOWLEDGE, dispatch.TAG_CASE, dispatch.PROCESS_INBOUND, dispatch.REFRESH_AGGREGATES):
        task = current_app.tasks[name]
        monkeypatch.setattr(task, "apply_async", lambda args, kwargs=None, countdown=None, name=name, **options: broker.publish(name, args, kwargs, countdown))
    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)  # a web process, as gunicorn's
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield broker
    current_app.conf.task_always_eager = eager


class NotingHandler(ClientHandler):
    """Notes, when the response is ready, what had been published by then."""

    def get_response(self, request):
        response = super().get_response(request)
        self.published_at_response = list(self.broker.published)
        return response


@pytest.fixture
def noting_client(broker):
    client = Client()
    client.handler = NotingHandler(enforce_csrf_checks=False)
    client.handler.broker = broker
    return client


def test_the_web_forms_registration_is_published_after_the_response_and_its_acknowledgement_by_the_worker(noting_client, broker, municipality):
    response = noting_client.post("/melding/", FORM)
    assert response.status_code == 302
    assert noting_client.handler.published_at_response == []  # the citizen did not wait for the broker
    submission = WebSubmission.objects.get()
    assert broker.published == [(dispatch.REGISTER_WEB, (submission.pk,), None)] and not Case.objects.exists()
    registration = submission_register(submission_id=submission.pk)  # the worker
    assert submission_register(submission_id=submission.pk) is None  # delivered twice: registered once
    assert [name for name, _args, _countdown in broker.published].count(dispatch.ACKNOWLEDGE) == 1
    assert (dispatch.ACKNOWLEDGE, (registration.case.pk,), None) in broker.published


def test_a_webhooks_message_is_stored_before_the_response_and_its_task_published_after(noting_client, broker, municipality, settings):
    from tests.test_intake_hostile import BASIC_AUTH, MAILGUN_URL, SIGNING_KEY, auth, mailgun, message

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    response = noting_client.post(MAILGUN_URL, data=mailgun(message(), token="d" * 50), **auth())
    assert response.status_code == 200
    assert noting_client.handler.published_at_response == []
    inbound = InboundMessage.objects.get()
    assert broker.published == [(dispatch.PROCESS_INBOUND, (inbound.pk,), None)]


def test_with_the_broker_down_the_complaint_is_stored_and_the_relays_take_it_up(noting_client, broker, municipality, caplog):
    broker.down = True
    with caplog.at_level(logging.ERROR, logger="cases.dispatch"):
        response = noting_client.post("/melding/", FORM)
    assert response.status_code == 302 and response.url == "/melding/ontvangen/"
    submission = WebSubmission.objects.get()
    assert f"task {dispatch.REGISTER_WEB} after the response failed" in [record.getMessage() for record in caplog.records]
    # Beat's inbound relay registers what waits over two minutes; the broker is still down for the acknowledgement.
    assert submissions_waiting() == []
    WebSubmission.objects.filter(pk=submission.pk).update(received_at=timezone.now() - datetime.timedelta(minutes=3))
    assert submissions_waiting() == [submission.pk]
    assert inbound_relay.apply().result == 1  # (not .get(): an earlier test's worker may leave Celery thinking this is a task)
    case = Case.objects.get()
    assert case.registration.number == submission.number and submissions_waiting() == []
    # Beat's outbox relay writes the acknowledgement that no task wrote, once its grace is over.
    Registration.objects.filter(pk=case.registration_id).update(registered_at=timezone.now() - datetime.timedelta(minutes=10))
    assert cases_missing_acknowledgement() == [case.pk]


def test_with_the_broker_down_a_webhooks_message_stays_stored_for_the_inbound_relay(noting_client, broker, municipality, settings, caplog):
    from tests.test_intake_hostile import BASIC_AUTH, MAILGUN_URL, SIGNING_KEY, auth, mailgun, message

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    broker.down = True
    with caplog.at_level(logging.ERROR, logger="cases.dispatch"):
        assert noting_client.post(MAILGUN_URL, data=mailgun(message(), token="e" * 50), **auth()).status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == "" and f"task {dispatch.PROCESS_INBOUND} after the response failed" in caplog.text
    assert inbound_pending(now=timezone.now() + datetime.timedelta(minutes=6)) == [inbound.pk]


def test_in_a_request_a_task_no_relay_makes_good_is_published_at_once(broker):
    """Tagging has no relay: a process that died after the response would lose it, so it does not wait."""
    from django.http import HttpResponse

    def view(request):
        dispatch.enqueue(dispatch.TAG_CASE, 7, replace=False)
        dispatch.enqueue(dispatch.ACKNOWLEDGE, 7)
        assert broker.published == [(dispatch.TAG_CASE, (7,), None)]
        return HttpResponse()

    response = dispatch.AfterResponseMiddleware(view)(object())
    assert broker.published == [(dispatch.TAG_CASE, (7,), None)]
    response.close()
    assert broker.published == [(dispatch.TAG_CASE, (7,), None), (dispatch.ACKNOWLEDGE, (7,), None)]


def test_outside_a_request_a_task_is_published_at_once(broker):
    dispatch.enqueue(dispatch.TAG_CASE, 7, replace=False)
    assert broker.published == [(dispatch.TAG_CASE, (7,), None)]


def test_a_countdown_is_kept_when_the_task_is_published_after_the_response(broker):
    from django.http import HttpResponse

    def view(request):
        dispatch.enqueue(dispatch.REFRESH_AGGREGATES, countdown=30)
        return HttpResponse()

    response = dispatch.AfterResponseMiddleware(view)(object())
    assert broker.published == []
    response.close()
    assert broker.published == [(dispatch.REFRESH_AGGREGATES, (), 30)]
