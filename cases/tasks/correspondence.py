"""Celery tasks of the outbox: send one letter (idempotent), and the relay that queues what waits.

Thin: they take ids and call ``cases.services.correspondence``.
"""

from __future__ import annotations

import logging

from celery import shared_task

from cases.models import OutboxStatus
from cases.services import correspondence

logger = logging.getLogger(__name__)

__all__ = ["outbox_relay", "send_outgoing_message"]

# Why these numbers: an ESP or SMTP server that is down usually comes back within minutes to an
# hour. 6 retries at 1, 2, 4, 8, 16 and 32 minutes span about an hour before a letter is 'failed'
# and shown to officers; acks_late redelivers the task if a worker dies meanwhile.
SEND_MAX_RETRIES = 6
SEND_BACKOFF_SECONDS = 60


def backoff_seconds(retries: int) -> int:
    return SEND_BACKOFF_SECONDS * 2**retries


@shared_task(bind=True, max_retries=SEND_MAX_RETRIES, acks_late=True)
def send_outgoing_message(self, outgoing_id: int) -> str:
    """Send outbox row ``outgoing_id`` once; a second delivery finds it sent and does nothing."""
    try:
        return correspondence.outgoing_send(outgoing_id=outgoing_id)
    except correspondence.DeliveryError as exc:
        message = correspondence.outgoing_record_failure(
            outgoing_id=outgoing_id, error=str(exc), final=self.request.retries >= self.max_retries, max_attempts=SEND_MAX_RETRIES + 1
        )
        if message is None or message.status != OutboxStatus.QUEUED:
            return "failed"
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries))


@shared_task
def outbox_relay() -> dict[str, int]:
    """Beat, every few minutes: write missing acknowledgements, release held ones, requeue lost ones."""
    written = 0
    for case_id in correspondence.cases_missing_acknowledgement():
        try:
            if correspondence.acknowledgement_queue(case_id=case_id) is not None:
                written += 1
        except Exception:
            logger.exception("could not write the acknowledgement of case %s", case_id)
    due = correspondence.outbox_due()
    for outgoing_id in due:
        send_outgoing_message.delay(outgoing_id)
    if written or due:
        logger.info("outbox relay: %s acknowledgement(s) written, %s message(s) queued", written, len(due))
    return {"written": written, "queued": len(due)}
