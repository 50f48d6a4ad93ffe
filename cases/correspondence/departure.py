"""What follows when a letter leaves (an e-mail the provider took, a PDF letter the mailroom posted):
it appears on the citizen's timeline and private page, and an acknowledgement acknowledges its case."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, CaseState, DeliveryChannel, EventKind, LetterKind, OutgoingMessage
from cases.workflow.transitions import case_transition

logger = logging.getLogger(__name__)


def _record_letter(message: OutgoingMessage, case: Case) -> None:
    CaseEvent.objects.create(
        case=case,
        at=message.sent_at or message.posted_at or timezone.now(),
        actor=message.created_by,
        kind=EventKind.MESSAGE_OUT,
        name=message.kind,
        internal=False,
        note=capfirst(str(LetterKind(message.kind).label)),
        data={"outgoing_id": message.pk, "channel": message.channel, "message_id": message.message_id},
    )


def _acknowledge_case(message: OutgoingMessage, case: Case) -> None:
    """The system runs 'acknowledge' once the acknowledgement is on its way."""
    if message.kind != LetterKind.ACKNOWLEDGEMENT or case.state != CaseState.RECEIVED:
        return
    how = _("per e-mail") if message.channel == DeliveryChannel.EMAIL else _("per post")
    try:
        note = f"{capfirst(str(LetterKind.ACKNOWLEDGEMENT.label))} {how}"
        case_transition(case_id=case.pk, name="acknowledge", actor=None, note=note, at=message.posted_at or message.sent_at)
    except WorkflowError as exc:
        logger.warning("acknowledgement of %s sent, but the case could not be acknowledged: %s", case, exc)


def letter_left(message: OutgoingMessage, case: Case) -> None:
    """The letter is on its way to the citizen: record it, and acknowledge the case when it is the acknowledgement."""
    _record_letter(message, case)
    _acknowledge_case(message, case)
