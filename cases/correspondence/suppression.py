"""Whether a letter may go now: the charter's answered-at-once exception, no address at all, and the
mail-loop guards for automatic mail (robot addresses, a rate per address). ``delivery`` asks before sending."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.mailaddresses import is_automatic_address
from cases.models import Case, DeliveryChannel, LetterKind, OutboxStatus, OutgoingMessage

# Why a letter was not sent, or not yet (stored in OutgoingMessage.last_error).
REASON_ANSWERED_AT_ONCE = _(
    "Niet verstuurd: de zaak was al beantwoord of afgesloten voordat de ontvangstbevestiging uitging "
    "(handvest: geen ontvangstbevestiging als de vraag gelijk te beantwoorden is)."
)
REASON_AUTOMATIC_ADDRESS = _("Niet verstuurd: %(address)s is een automatisch adres (zoals noreply of postmaster); daar gaat geen automatisch bericht heen.")
REASON_RATE_LIMIT = _("Niet verstuurd: het afgelopen uur gingen al %(count)s automatische berichten naar %(address)s (bescherming tegen mail-lussen).")
REASON_NO_ADDRESS = _("Niet verstuurd: er is geen e-mailadres en geen postadres bekend.")


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
    if message.kind == LetterKind.ACKNOWLEDGEMENT and case.is_answered():
        return str(REASON_ANSWERED_AT_ONCE)
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
