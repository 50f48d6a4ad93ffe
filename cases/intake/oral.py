"""Complaints and suggestions taken orally, by phone or at the counter (*mondelinge klachten*).

An officer writes down what the citizen said. When the complaint was handled to the citizen's
satisfaction during the conversation (Awb 9:5, "resolved at once"), the case is registered and
closed in one transaction with outcome ``informeel_opgelost``; no acknowledgement is due then.
A call-back request gets a call-back deadline of two working days (charter, TEL-TERUGBELLEN).
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.models import IntakeChannel, Kind, Registration, ReplyChannel
from cases.permissions import REGISTER_POST, require
from cases.workflow.registration import Sender, content_hash, register_item
from cases.workflow.transitions import case_transition

logger = logging.getLogger(__name__)

ORAL_CHANNELS = (IntakeChannel.PHONE, IntakeChannel.COUNTER)
ORAL_KINDS = (Kind.COMPLAINT, Kind.SUGGESTION)

ORAL_WRONG_CHANNEL = _("Kies telefoon of balie.")
ORAL_WRONG_KIND = _("Kies klacht of verbetersuggestie.")
ORAL_NO_CONTACT = _("Noteer een e-mailadres, postadres of telefoonnummer, zodat wij de inwoner kunnen antwoorden.")
ORAL_CALLBACK_NEEDS_PHONE = _("Voor een terugbelverzoek is een telefoonnummer nodig.")
ORAL_RESOLVED_ONLY_COMPLAINT = _("Alleen een klacht kan direct naar tevredenheid worden opgelost (Awb 9:5).")
ORAL_RESOLVED_NO_CALLBACK = _("Een klacht die direct is opgelost heeft geen terugbelverzoek nodig.")
ORAL_NO_PERMISSION = _("U mag geen klachten of suggesties registreren.")
ORAL_ACKNOWLEDGED = _("Mondeling bevestigd in het gesprek: er is geen e-mail- of postadres om een bevestiging heen te sturen.")


def _reply_channel(sender: Sender) -> str:
    if sender.email:
        return ReplyChannel.EMAIL
    if sender.address:
        return ReplyChannel.POST
    return ReplyChannel.PHONE


def _validate(*, channel: str, kind: str, text: str, sender: Sender, resolved_at_once: bool, callback_requested: bool) -> None:
    problems: dict[str, object] = {}
    if channel not in ORAL_CHANNELS:
        problems["channel"] = ORAL_WRONG_CHANNEL
    if kind not in ORAL_KINDS:
        problems["kind"] = ORAL_WRONG_KIND
    if not text.strip():
        problems["text"] = errors.EMPTY_TEXT
    if resolved_at_once and kind == Kind.SUGGESTION:
        problems["resolved_at_once"] = ORAL_RESOLVED_ONLY_COMPLAINT
    if resolved_at_once and callback_requested:
        problems["callback_requested"] = ORAL_RESOLVED_NO_CALLBACK
    elif callback_requested and not sender.phone.strip():
        problems["sender_phone"] = ORAL_CALLBACK_NEEDS_PHONE
    if not resolved_at_once and not (sender.email or sender.address or sender.phone).strip():
        # Only a complaint resolved on the spot needs no answer, so it may stay anonymous.
        problems["sender"] = ORAL_NO_CONTACT
    if problems:
        logger.info("oral intake refused: %s", ", ".join(sorted(problems)))
        raise ValidationError(problems)


def oral_intake(
    *,
    channel: str,
    kind: str,
    text: str,
    sender: Sender,
    resolved_at_once: bool,
    actor,
    callback_requested: bool = False,
    received_on: datetime.date | None = None,
    resolution_note: str = "",
    idempotency_key: str | None = None,
) -> Registration:
    """Register what a citizen said by phone or at the counter; close it at once when it was resolved (Awb 9:5).

    ``idempotency_key`` (e.g. the officer form's one-time token) makes a double submit return
    the first registration instead of making a second. All or nothing: if closing fails, nothing
    is registered. Raises ValidationError (per field) or PermissionDenied.
    """
    require(actor, REGISTER_POST, message=ORAL_NO_PERMISSION)
    _validate(channel=channel, kind=kind, text=text, sender=sender, resolved_at_once=resolved_at_once, callback_requested=callback_requested)
    hash_value = content_hash("oral", idempotency_key) if idempotency_key else None
    with transaction.atomic():
        registration, created = register_item(
            channel=channel,
            kind=kind,
            text=text.strip(),
            sender=sender,
            received_on=received_on,
            reply_channel=_reply_channel(sender),
            hash_value=hash_value,
            callback_requested=callback_requested,
            actor=actor,
        )
        if created and resolved_at_once:
            # The acknowledgement receiver runs after commit and finds the case closed already.
            note = resolution_note.strip() or str(_("Direct naar tevredenheid opgelost in het gesprek (Awb 9:5)."))
            case_transition(case_id=registration.case.pk, name="resolve_informally", actor=actor, note=note)
        elif created and _reply_channel(sender) == ReplyChannel.PHONE:
            # No address to write to: the complaint was acknowledged in the conversation itself. Awb 9:6 asks a
            # written acknowledgement of a written complaint only; no letter waits that can never go.
            case_transition(case_id=registration.case.pk, name="acknowledge", actor=None, note=str(ORAL_ACKNOWLEDGED))
    if created:
        logger.info("oral intake %s via %s (%s, resolved at once: %s)", registration.number, channel, kind, resolved_at_once)
    registration.refresh_from_db()
    return registration
