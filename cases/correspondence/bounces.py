"""A letter that bounced for good goes again by post: called by the intake's bounce handler
(``cases.intake.routing``) once the bounce is recorded and committed."""

from __future__ import annotations

import logging

from cases.correspondence.outbox import REASON_BOUNCED, angle, outbox_write
from cases.models import DeliveryChannel, OutboxStatus, OutgoingMessage

logger = logging.getLogger(__name__)


def outgoing_reroute_to_post(*, message_id: str, reason: str = "") -> OutgoingMessage | None:
    """A letter we e-mailed bounced for good: send the same letter by post (once), and say why.

    Returns the copy, or None when there is nothing to resend (not ours, not sent by e-mail, or
    no postal address: then an officer must call or write, and the log says so).
    """
    letters = OutgoingMessage.objects.select_related("case__registration")
    original = letters.filter(message_id=angle(message_id)).first() or letters.filter(message_id=message_id.strip("<>")).first()
    if original is None or original.channel != DeliveryChannel.EMAIL or original.status != OutboxStatus.SENT:
        return None
    case = original.case
    registration = case.registration
    if not registration.sender_address.strip():
        logger.warning("letter %s bounced and %s has no postal address; an officer must call or write", original.pk, registration.number)
        return None
    copy, created = outbox_write(
        case=case,
        kind=original.kind,
        dedupe_key=f"{original.dedupe_key}:post",
        subject=original.subject,
        body_text=original.body_text,
        actor=original.created_by,
        channel=DeliveryChannel.POST,
        note=reason or str(REASON_BOUNCED % {"address": original.to_email}),
    )
    if created:
        logger.info("letter %s of %s bounced; a copy goes by post (outbox %s)", original.pk, registration.number, copy.pk)
    return copy
