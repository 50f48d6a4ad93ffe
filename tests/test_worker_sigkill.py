"""A real worker killed with SIGKILL at random moments while it sends 300 acknowledgements:
none goes out twice, none is lost — each is sent once, or shown to the officers as unknown.

The worker is a separate ``celery worker`` process on the local Redis and the test's PostgreSQL
database; its mail backend appends every accepted message to a file (flushed before it returns),
so a kill right after the provider took a mail still leaves its trace. Needs PostgreSQL and
Redis (CI sets DATABASE_URL and CELERY_BROKER_URL).
"""

import collections
import datetime
import random

from django.utils import timezone

from cases.correspondence.delivery import outgoing_mark_unknown
from cases.correspondence.outbox import acknowledgement_queue, outbox_due
from cases.models import OutboxStatus, OutgoingMessage
from cases.tasks import send_outgoing_message
from cms.models import MunicipalitySettings
from config.celery import app
from tests.factories import CaseFactory
from tests.worker_process import NEEDS_WORKER, WorkerProcess, broker  # noqa: F401 (the fixture)

pytestmark = NEEDS_WORKER

LETTERS = 300
KILLS = 8



def unsent() -> int:
    return OutgoingMessage.objects.filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING]).count()


def test_a_worker_killed_while_sending_300_acknowledgements_sends_none_twice_and_loses_none(tmp_path, broker, settings):  # noqa: F811 (the fixture)
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 60  # written now, sent when this test queues them
    municipality = MunicipalitySettings.load()
    municipality.registration_prefix = "HLG"
    municipality.save()
    app.conf.task_always_eager = True  # the factory's own steps run here
    letters = [acknowledgement_queue(case_id=CaseFactory(email=f"inwoner{n}@example.nl").pk) for n in range(LETTERS)]
    app.conf.task_always_eager = False
    for letter in letters:
        send_outgoing_message.apply_async((letter.pk,))

    worker = WorkerProcess(tmp_path, HANDVEST_TEST_SEND_SECONDS="0.03")
    chance = random.Random(20261204)
    try:
        for _ in range(KILLS):
            worker.start()
            worker.wait_until(lambda: len(worker.sends()) > 0 and chance.random() < 0.02, timeout=chance.uniform(4, 9), step=0.1)
            worker.kill()  # at a random moment: starting up, sending, between claim and confirmation
        # The relay's part: a letter whose task was lost with the killed worker is queued again.
        for outgoing_id in outbox_due(now=timezone.now() + datetime.timedelta(days=1)):
            send_outgoing_message.apply_async((outgoing_id,))
        worker.start()
        worker.wait_until(lambda: not OutgoingMessage.objects.filter(status=OutboxStatus.QUEUED).exists(), timeout=180)
    finally:
        worker.stop()

    # Letters left 'sending' by a killed worker: the relay shows them as unknown, never sends them again.
    outgoing_mark_unknown(older_than_minutes=0)
    sends = collections.Counter(worker.sends())
    rows = {row.message_id: row for row in OutgoingMessage.objects.filter(pk__in=[letter.pk for letter in letters])}
    assert [mid for mid, count in sends.items() if count > 1] == []  # 0 sent twice
    assert set(sends) <= set(rows)
    statuses = collections.Counter(row.status for row in rows.values())
    assert set(statuses) <= {OutboxStatus.SENT, OutboxStatus.UNKNOWN}, statuses  # 0 lost: sent, or shown as unknown
    assert all(sends[mid] == 1 for mid, row in rows.items() if row.status == OutboxStatus.SENT)
    assert unsent() == 0
    print(f"\n{LETTERS} acknowledgements, {KILLS} kills: {statuses[OutboxStatus.SENT]} sent once, {statuses[OutboxStatus.UNKNOWN]} unknown, 0 twice")
