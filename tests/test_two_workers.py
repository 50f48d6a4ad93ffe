"""Scaling out: two Celery workers on one Redis share the citizen mail, and nothing is sent twice,
also when one of them dies with SIGKILL in the middle and the other carries on alone.
Needs PostgreSQL and Redis (CI sets DATABASE_URL and CELERY_BROKER_URL)."""

import datetime

from django.utils import timezone

from cases.correspondence.delivery import outgoing_mark_unknown
from cases.correspondence.outbox import acknowledgement_queue, cases_missing_acknowledgement, outbox_due
from cases.intake.email import email_intake
from cases.models import InboundOutcome, OutboxStatus, OutgoingMessage
from cases.tasks import send_outgoing_message
from cms.models import MunicipalitySettings
from config.celery import app
from tests.worker_process import NEEDS_WORKER, WorkerProcess

pytestmark = NEEDS_WORKER

MAILS = 300


def mail(number: int) -> bytes:
    return (
        f"From: Inwoner {number} <inwoner{number}@example.nl>\r\nTo: info@harlingen.nl\r\nSubject: Klacht {number}\r\n"
        f"Message-ID: <two-workers-{number}@example.nl>\r\nDate: Mon, 2 Nov 2026 09:13:55 +0100\r\n\r\n"
        f"Niemand heeft mijn telefoontje van vorige week teruggebeld (melding {number}).\r\n"
    ).encode()


def test_two_workers_share_the_mail_and_one_dying_doubles_nothing(tmp_path, settings):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    municipality = MunicipalitySettings.load()
    municipality.registration_prefix = "HLG"
    municipality.save()
    app.conf.task_always_eager = False
    app.control.purge()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # Each send takes a little while, as with a real provider, so both workers get work and a kill lands mid-send.
    # The workers write the acknowledgements (``cases.acknowledge``) and send them at once.
    first = WorkerProcess(tmp_path / "a", name="first", HANDVEST_TEST_SEND_SECONDS="0.05", HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES="0")
    second = WorkerProcess(tmp_path / "b", name="second", HANDVEST_TEST_SEND_SECONDS="0.05", HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES="0")
    letters = OutgoingMessage.objects.filter(kind="acknowledgement")
    try:
        outcomes = [email_intake(raw=mail(number), source="webhook:mailgun").outcome for number in range(MAILS)]
        assert outcomes == [InboundOutcome.CASE] * MAILS
        first.start()
        second.start()
        assert first.wait_until(lambda: len(first.sends()) >= 40 and len(second.sends()) >= 40, timeout=120)
        first.kill()
        # What was being sent at the kill: the killed worker's letters stay 'sending' for good (shown as unknown below).
        in_flight_at_kill = set(letters.filter(status=OutboxStatus.SENDING).values_list("pk", flat=True))
        # The relay's part (beat, every 5 minutes): an acknowledgement the killed worker had yet to write is
        # written, and the tasks it had taken are queued again. Both workers' tasks may now meet on one
        # letter (or one case): the outbox's claim lets only one of them send it.
        for case_id in cases_missing_acknowledgement(now=timezone.now() + datetime.timedelta(days=1)):
            acknowledgement_queue(case_id=case_id)
        for outgoing_id in outbox_due(now=timezone.now() + datetime.timedelta(days=1)):
            send_outgoing_message.apply_async((outgoing_id,))
        # Done when nothing waits and the survivor has finished what it claimed; stopping it earlier would cut off its
        # last sends (SIGTERM reaches its pool too) and count them as unknown.
        assert second.wait_until(
            lambda: not letters.filter(status=OutboxStatus.QUEUED).exists()
            and not letters.filter(status=OutboxStatus.SENDING).exclude(pk__in=in_flight_at_kill).exists(),
            timeout=180,
            step=1,
        )
    finally:
        first.kill()
        second.stop()
        app.control.purge()
        app.conf.task_always_eager = True
    # Letters the killed worker left 'sending': the relay shows them as unknown, never sends them again.
    outgoing_mark_unknown(older_than_minutes=0)
    assert set(letters.values_list("status", flat=True)) <= {OutboxStatus.SENT, OutboxStatus.UNKNOWN}  # none lost
    sent = first.sends() + second.sends()
    assert len(sent) == len(set(sent)), "an acknowledgement went out twice"
    assert set(sent) >= set(letters.filter(status=OutboxStatus.SENT).values_list("message_id", flat=True))
    assert letters.count() == MAILS
    # The kill may leave a send whose outcome nobody knows: shown as 'verzonden? onbekend', never repeated blindly.
    assert letters.filter(status=OutboxStatus.UNKNOWN).count() <= 2
    assert len(second.sends()) > len(first.sends()) >= 40
    print(f"\n{MAILS} acknowledgements: first worker {len(first.sends())} (killed), second {len(second.sends())}, "
          f"unknown {letters.filter(status=OutboxStatus.UNKNOWN).count()}, twice 0")
