"""Whether a letter may go now: the charter's answered-at-once exception, no address at all, and the
mail-loop guards for automatic mail (robot addresses, a rate per address). ``delivery`` asks before sending."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.mailaddresses import is_automatic_address
from cases.models import Case, DeliveryChannel, LetterKind, OutboxStatus, OutgoingMessage

logger = logging.getLogger(__name__)

# Why a letter was not sent, or not yet (stored in OutgoingMessage.last_error).
REASON_ANSWERED_AT_ONCE = _(
    "Niet verstuurd: de zaak was al beantwoord of afgesloten voordat de ontvangstbevestiging uitging "
    "(handvest: geen ontvangstbevestiging als de vraag gelijk te beantwoorden is)."
)
REASON_AUTOMATIC_ADDRESS = _("Niet verstuurd: %(address)s is een automatisch adres (zoals noreply of postmaster); daar gaat geen automatisch bericht heen.")
REASON_RATE_LIMIT = _("Niet verstuurd: het afgelopen uur gingen al %(count)s automatische berichten naar %(address)s (bescherming tegen mail-lussen).")
REASON_NO_ADDRESS = _("Niet verstuurd: er is geen e-mailadres en geen postadres bekend.")
REASON_MERGED = _("Niet verstuurd: de zaak is samengevoegd met een andere; de indiener hoort via die zaak.")
# Letters not gone yet: in the outbox, or in the mailroom (a printed one is still on the clerk's desk).
NOT_GONE = (OutboxStatus.QUEUED, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED)


def gone_reason(message: OutgoingMessage, case: Case) -> str:
    """Why a letter written earlier must no longer go ('' when it may): the case was answered at once (an
    acknowledgement is then not needed, the charter's exception), or merged into another (it sends no letter)."""
    if case.merged_into_id is not None:
        return str(REASON_MERGED)
    if message.kind == LetterKind.ACKNOWLEDGEMENT and case.is_answered():
        return str(REASON_ANSWERED_AT_ONCE)
    return ""


def letters_withhold(case: Case) -> int:
    """The case's letters not gone yet whose reason to go has gone: not sent (with the reason), out of the print queue.
    Called when a case is answered, closed or merged, in that change's transaction. Returns how many."""
    withheld = 0
    for message in OutgoingMessage.objects.select_for_update().filter(case=case, status__in=NOT_GONE):
        if reason := gone_reason(message, case):
            message.status, message.last_error = OutboxStatus.SUPPRESSED, reason
            message.save(update_fields=["status", "last_error"])
            logger.info("outgoing message %s (%s of %s) withheld: %s", message.pk, message.kind, case, reason)
            withheld += 1
    return withheld


def _recent_automatic_mail(message: OutgoingMessage, address: str) -> int:
    return (
        OutgoingMessage.objects.filter(
            automatic=True,
            status=OutboxStatus.SENT,
            channel=DeliveryChannel.EMAIL,
            to_email__iexact=address,
            sent_at__gte=timezone.now() - datetime.timedelta(hours=1),
        )
        .exclude(pk=message.pk)
        .count()
    )


def suppression_reason(message: OutgoingMessage, case: Case, channel: str) -> str:
    """Why this letter must not go now ('' when it may): the charter's answered-at-once exception,
    no address at all, or the mail-loop guards for automatic mail."""
    if gone := gone_reason(message, case):
        return gone
    registration = case.registration
    if channel == DeliveryChannel.POST and not registration.sender_address.strip():
        return str(REASON_NO_ADDRESS)
    if message.automatic and channel == DeliveryChannel.EMAIL:
        address = registration.sender_email
        if is_automatic_address(address):
            return str(REASON_AUTOMATIC_ADDRESS % {"address": address})
        recent = _recent_automatic_mail(message, address)
        if recent >= settings.HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR:
            return str(REASON_RATE_LIMIT % {"count": recent, "address": address})
    return ""
