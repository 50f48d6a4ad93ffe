"""A real Celery worker on the local Redis sends an acknowledgement exactly once, also when its task is delivered twice.

Needs Redis (CELERY_BROKER_URL) and PostgreSQL (DATABASE_URL): the worker runs in threads of this
process with their own database connections, as a deployed worker would.
"""

import datetime
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connections

from cases import dispatch
from cases.models import CaseEvent, CaseState, EventKind, OutboxStatus, OutgoingMessage
from cases.tasks import acknowledge, outbox_relay, send_outgoing_message
from config.celery import app
from tests.factories import CaseFactory
from tests.worker_process import NEEDS_WORKER

pytestmark = NEEDS_WORKER

WAIT_SECONDS = 60


class TaskRuns:
    """The finished task runs, as (task name, first argument, result), collected from the worker's threads."""

    def __init__(self):
        self.runs: list[tuple[str, object, object]] = []
        self.changed = threading.Condition()

    def __call__(self, sender=None, task=None, args=None, retval=None, **kwargs):
        # Each worker thread has its own database connection; close it, or the test database
        # cannot be flushed and dropped afterwards.
        connections.close_all()
        with self.changed:
            self.runs.append((task.name, args[0] if args else None, retval))
            self.changed.notify_all()

    def wait_for(self, task, count: int, outgoing_id: int | None = None) -> list:
        """The results of ``task`` (for ``outgoing_id``), once there are ``count`` of them (or the wait is over)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self.changed:
            while len(self.results(task, outgoing_id)) < count and time.monotonic() < deadline:
                self.changed.wait(timeout=1)
        return self.results(task, outgoing_id)

    def results(self, task, outgoing_id: int | None = None) -> list:
        return [result for name, arg, result in self.runs if name == task.name and (outgoing_id is None or arg == outgoing_id)]


@pytest.fixture
def worker(settings):
    """A worker with two threads against the real broker; eager mode off while it runs."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    app.conf.task_always_eager = False
    app.control.purge()  # nothing left over from an earlier run
    runs = TaskRuns()
    task_postrun.connect(runs, weak=False)
    try:
        # Both queues, as `make worker` runs it: citizen mail ("mail") and housekeeping ("celery").
        queues = [dispatch.MAIL_QUEUE, dispatch.HOUSEKEEPING_QUEUE]
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30, queues=queues):
            yield runs
    finally:
        task_postrun.disconnect(runs)
        app.conf.task_always_eager = True


def prefix():
    from cms.models import MunicipalitySettings

    municipality = MunicipalitySettings.load()
    municipality.name = "Gemeente Harlingen"
    municipality.registration_prefix = "HLG"
    municipality.save()


def test_acknowledgement_is_sent_once_when_its_task_is_delivered_twice(worker, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0  # queued at once after registration
    prefix()
    case = CaseFactory(email="piet@example.nl")  # commits: the receiver queues the acknowledgement's task
    assert worker.wait_for(acknowledge, 1, case.pk) == ["sent"]  # the worker wrote it and sent it at once
    message = OutgoingMessage.objects.get(case=case, kind="acknowledgement")
    # A send task for it delivered twice (a redelivery after a lost ack, a second relay run), and the
    # acknowledgement task itself delivered again.
    send_outgoing_message.apply_async((message.pk,))
    send_outgoing_message.apply_async((message.pk,))
    acknowledge.apply_async((case.pk,))

    assert worker.wait_for(send_outgoing_message, 2, message.pk) == ["skipped", "skipped"]
    assert worker.wait_for(acknowledge, 2, case.pk)[1] == "sent"  # found sent: nothing written or sent again
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 1
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).count() == 1


def test_a_held_acknowledgement_is_released_once_by_the_relay_on_the_worker(worker, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 60
    prefix()
    case = CaseFactory(email="piet@example.nl")
    assert worker.wait_for(acknowledge, 1, case.pk) == ["queued"]
    message = OutgoingMessage.objects.get(case=case, kind="acknowledgement")
    assert message.status == OutboxStatus.QUEUED and mail.outbox == []  # held
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=message.created_at - datetime.timedelta(minutes=61))

    outbox_relay.apply_async()
    assert worker.wait_for(outbox_relay, 1) == [{"written": 0, "queued": 1, "unknown": 0}]
    assert worker.wait_for(send_outgoing_message, 1, message.pk) == ["sent"]
    outbox_relay.apply_async()  # beat's next run finds nothing left to do
    assert worker.wait_for(outbox_relay, 2)[1] == {"written": 0, "queued": 0, "unknown": 0}
    assert len(mail.outbox) == 1
