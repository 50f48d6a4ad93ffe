"""Eager mode (``make run``): a request's tasks run after its response, as a worker would run them.

A WSGI server sends the response and only then calls its ``close()``; Django's test client does the
same. The handler below notes what the database holds at the moment the response is ready, before
``close()``: the submission is stored with its number and the citizen is answered; the case is
registered (``cases.intake.web_submissions``) and its acknowledgement written and sent after it.
"""

from __future__ import annotations

import logging

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.test.client import ClientHandler

from cases import dispatch
from cases.correspondence import delivery
from cases.models import Case, OutgoingMessage, WebSubmission

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FORM = {"kind": "complaint", "description": "Ik heb een uur aan de balie gewacht.", "name": "Aukje", "email": "aukje@example.nl",
        "address": "", "phone": "", "hint": "", "website": ""}


class NotingHandler(ClientHandler):
    """Notes, when the response is ready, how many cases and letters there are."""

    seen: dict

    def get_response(self, request):
        response = super().get_response(request)
        self.seen = {
            "submissions": WebSubmission.objects.count(),
            "cases": Case.objects.count(),
            "letters": OutgoingMessage.objects.count(),
            "status": response.status_code,
        }
        return response


@pytest.fixture
def noting_client():
    client = Client()
    client.handler = NotingHandler(enforce_csrf_checks=False)
    return client


@pytest.fixture(autouse=True)
def at_once(settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0


def test_the_acknowledgement_is_written_and_sent_after_the_response_not_before(noting_client, municipality, mailoutbox):
    response = noting_client.post("/melding/", FORM)
    assert response.status_code == 302
    # When the response was ready: stored with its number, not registered, nothing written or sent yet.
    assert noting_client.handler.seen == {"submissions": 1, "cases": 0, "letters": 0, "status": 302}
    # After close(): registered, and the acknowledgement was written, sent (a task queued by a task runs at once) and counted.
    case = Case.objects.get()
    assert case.registration.number == WebSubmission.objects.get().number
    assert case.state == "acknowledged"
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement", status="sent").count() == 1
    assert [message.to for message in mailoutbox] == [["aukje@example.nl"]]


def test_a_task_that_fails_after_the_response_is_logged_and_the_complaint_stays_registered(noting_client, municipality, monkeypatch, caplog, mailoutbox):
    def broken(*, case_id, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(delivery, "acknowledgement_queue", broken)
    with caplog.at_level(logging.ERROR):
        response = noting_client.post("/melding/", FORM)
    assert response.status_code == 302 and response.url == "/melding/ontvangen/"
    case = Case.objects.get()
    assert not OutgoingMessage.objects.exists() and mailoutbox == []
    # Queued by the registration (itself run after the response), it runs at once and its receiver logs it;
    # beat's outbox relay writes the missing acknowledgement later.
    assert [record.getMessage() for record in caplog.records] == [f"could not queue the acknowledgement of case {case.pk}"]


def test_the_work_after_the_response_carries_the_requests_trace_id(client, municipality):
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = client.post("/melding/", FORM, HTTP_TRACEPARENT=f"00-{trace}-00f067aa0ba902b7-01")
    assert response.status_code == 302
    letter = OutgoingMessage.objects.get()
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(OutgoingMessage), object_id=letter.pk)
    assert entries.exists() and {entry.cid for entry in entries} == {trace}


def test_outside_a_request_eager_tasks_still_run_at_once(municipality):
    """A command or a test calling a service: no request, no response to wait for."""
    from cases.intake.email import email_intake

    raw = (b"From: Jan <jan@example.nl>\r\nTo: info@harlingen.nl\r\nSubject: Klacht\r\nMessage-ID: <now-1@example.nl>\r\n\r\n"
           b"Niemand nam op toen ik belde, dat is een klacht.\r\n")
    result = email_intake(raw=raw, source="import")
    case = Case.objects.get(registration__number=result.reference)
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").count() == 1


def test_citizen_mail_runs_first_after_the_response_then_the_rest_in_the_order_queued(monkeypatch):
    """As the workers' queues: an acknowledgement never waits behind a tagging (a first model load takes seconds)."""
    from celery import current_app
    from django.http import HttpResponse

    ran = []
    for name in (dispatch.TAG_CASE, dispatch.SATISFACTION_SURVEY, dispatch.ACKNOWLEDGE):
        monkeypatch.setattr(current_app.tasks[name], "apply_async", lambda args, kwargs, countdown=None, name=name: ran.append((name, tuple(args), kwargs)))

    def view(request):
        dispatch.enqueue(dispatch.TAG_CASE, 1, replace=False)
        dispatch.enqueue(dispatch.SATISFACTION_SURVEY, 1)
        dispatch.enqueue(dispatch.ACKNOWLEDGE, 1)
        assert ran == []  # nothing runs before the response
        return HttpResponse()

    response = dispatch.AfterResponseMiddleware(view)(object())
    assert ran == []
    response.close()
    assert ran == [(dispatch.ACKNOWLEDGE, (1,), {}), (dispatch.TAG_CASE, (1,), {"replace": False}), (dispatch.SATISFACTION_SURVEY, (1,), {})]
