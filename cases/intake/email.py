"""E-mail intake: the one service behind the anymail inbound webhooks and ``manage.py import_eml``.

A message runs one way through these steps, each a function of the step before:

1. **parse** the raw bytes once (``parsing.mime.parse_email``) — or keep bytes that are no e-mail,
   or too large, as an ``error`` for an officer;
2. **drop duplicates** (the same Message-ID, or without one the same content);
3. **read the facts** once (``parsing.rules.read_facts``: bounce, automatic reply, thread);
4. **store** the message (``InboundMessage``, raw bytes kept whatever happens) and **route** it
   (``routing.route``: find the thread, classify, and bounce / auto-reply / advertising / thread /
   register).

Every message ends in exactly one outcome (``InboundOutcome``):

- ``duplicate``  — the same Message-ID (or, without one, the same content) came before; nothing changes.
- ``error``      — no e-mail, or too large; stored raw with the reason, listed for an officer.
- ``auto_reply`` — an automatic message; never registered, so never acknowledged. An out-of-office
  reply to one of our letters joins that case's timeline; a bounce of one of our letters is
  threaded to its case, marks the citizen's e-mail address undeliverable and sends the letter by post.
- ``thread``     — a reply (In-Reply-To/References to a letter we sent, or a registration number in
  the subject) joins that case's timeline; no new registration.
- ``ignored``    — advertising (charter: all post is registered "behalve reclame"); counted in the log.
- ``case`` / ``triage`` — registered through ``register_item``; complaints and suggestions become
  cases, other mail waits in triage.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.intake.mail_attachments import megabytes
from cases.intake.parsing.mime import ParsedEmail, UnparseableEmail, parse_email, parse_headers_only
from cases.intake.parsing.rules import read_facts
from cases.intake.routing import AlreadyRegistered, IntakeResult, route
from cases.models import InboundMessage, InboundOutcome
from cases.workflow.registration import content_hash

logger = logging.getLogger(__name__)

__all__ = ["DUPLICATE", "PROCESSING_FAILED", "TOO_LARGE", "IntakeResult", "email_intake"]

# What the intake says about a message (IntakeResult.message, import_eml --json "message", InboundMessage.reason).
TOO_LARGE = _("Bericht te groot (%(size)s, meer dan %(limit)s): bewaard maar niet verwerkt.")
PROCESSING_FAILED = _("Verwerken mislukt (%(error)s): het bericht is bewaard en wacht op een medewerker.")
DUPLICATE = _("Dit bericht is al eerder ontvangen; er is niets veranderd.")


def _raw_name(raw_digest: str) -> str:
    """File name of a stored message: its SHA-256 (hex), shortened."""
    return raw_digest[:32] + ".eml"


def _reference_of(inbound: InboundMessage | None) -> str:
    if inbound is None:
        return ""
    if inbound.registration_id:
        return inbound.registration.number
    if inbound.case_id:
        return inbound.case.registration.number
    return ""


def _duplicate_of(*, message_id: str, hash_value: str) -> InboundMessage | None:
    queryset = InboundMessage.objects.select_related("registration", "case__registration")
    if message_id:
        return queryset.filter(message_id=message_id).first()
    if hash_value:
        return queryset.filter(message_id__isnull=True, content_hash=hash_value).order_by("pk").first()
    return None


def _duplicate_result(existing: InboundMessage) -> IntakeResult:
    logger.info("inbound mail %s is a duplicate of inbound message %s; nothing changed", existing.message_id or existing.content_hash[:12], existing.pk)
    return IntakeResult(InboundOutcome.DUPLICATE, _reference_of(existing), str(DUPLICATE), existing.pk)


def _message_hash(parsed: ParsedEmail) -> str:
    """Identity of a message without a Message-ID: sender, date, subject and text."""
    return content_hash(parsed.from_address, parsed.header("Date"), parsed.subject, parsed.text)


def _received_at(parsed: ParsedEmail | None, received_at: datetime.datetime | None, date_from_headers: bool) -> datetime.datetime:
    now = timezone.now()
    if received_at is None and date_from_headers and parsed is not None:
        received_at = parsed.received_at or parsed.date
    if received_at is None or received_at > now:
        return now
    return received_at


def _inbound_row(*, parsed: ParsedEmail, raw: bytes, source: str, received_at: datetime.datetime, hash_value: str, **state) -> InboundMessage:
    """The ``InboundMessage`` of a message with its raw bytes (not yet saved); ``state`` sets outcome, reason, handled."""
    inbound = InboundMessage(
        received_at=received_at,
        source=source[:40],
        message_id=parsed.message_id or None,
        in_reply_to=parsed.in_reply_to[:500],
        references=" ".join(parsed.references),
        from_address=parsed.from_address[:320],
        from_name=parsed.from_name[:200],
        to_address=parsed.to_address[:320],
        subject=parsed.subject[:500],
        text=parsed.text,
        raw_size=len(raw),
        content_hash=hash_value,
        **state,
    )
    inbound.raw.save(_raw_name(hashlib.sha256(raw).hexdigest()), ContentFile(raw), save=False)
    return inbound


def _store_error(*, raw: bytes, source: str, reason: str, received_at: datetime.datetime | None, parsed: ParsedEmail | None = None) -> IntakeResult:
    """Keep a message that could not be processed, raw and with the reason; never drop it."""
    parsed = parsed or ParsedEmail()
    hash_value = hashlib.sha256(raw).hexdigest()
    existing = _duplicate_of(message_id=parsed.message_id, hash_value="" if parsed.message_id else hash_value)
    if existing is not None:
        return _duplicate_result(existing)
    inbound = _inbound_row(
        parsed=parsed,
        raw=raw,
        source=source,
        received_at=received_at or timezone.now(),
        hash_value=hash_value,
        outcome=InboundOutcome.ERROR,
        reason=reason,
        handled=False,
    )
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:
        existing = _duplicate_of(message_id=parsed.message_id, hash_value=hash_value)
        if existing is None:
            raise
        return _duplicate_result(existing)
    logger.warning("inbound mail from %s could not be processed and waits for an officer (inbound %s): %s", source, inbound.pk, reason)
    return IntakeResult(InboundOutcome.ERROR, "", reason, inbound.pk)


def _parse(raw: bytes, source: str, received_at: datetime.datetime | None) -> ParsedEmail | IntakeResult:
    """Step 1: the parsed message, or the stored ``error`` when it is too large or no e-mail."""
    limit = settings.HANDVEST_MAIL_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        reason = str(TOO_LARGE % {"size": megabytes(len(raw)), "limit": megabytes(limit)})
        return _store_error(raw=raw, source=source, reason=reason, received_at=received_at, parsed=parse_headers_only(raw))
    try:
        return parse_email(raw)
    except UnparseableEmail as exc:
        return _store_error(raw=raw, source=source, reason=exc.reason, received_at=received_at)


def email_intake(*, raw: bytes, source: str, received_at: datetime.datetime | None = None, date_from_headers: bool = False) -> IntakeResult:
    """Take in one e-mail (raw RFC 5322 bytes) from ``source`` (``webhook:mailgun``, ``eml``, ``mbox`` ...).

    ``received_at`` is when it arrived (the ESP's timestamp); ``date_from_headers`` takes it from
    the message itself (its topmost Received header, else Date), for imported mailboxes.
    Idempotent: a retry returns ``duplicate`` and changes nothing.
    """
    raw = bytes(raw or b"")
    parsed = _parse(raw, source, received_at)
    if isinstance(parsed, IntakeResult):
        return parsed
    arrived = _received_at(parsed, received_at, date_from_headers)
    hash_value = _message_hash(parsed)
    existing = _duplicate_of(message_id=parsed.message_id, hash_value=hash_value)
    if existing is not None:
        return _duplicate_result(existing)
    facts = read_facts(parsed, own_domain=settings.HANDVEST_MAIL_DOMAIN, own_addresses={settings.DEFAULT_FROM_EMAIL})
    try:
        with transaction.atomic():
            inbound = _inbound_row(parsed=parsed, raw=raw, source=source, received_at=arrived, hash_value=hash_value, handled=True)
            inbound.save()
            return route(inbound, parsed, facts)
    except AlreadyRegistered as exc:
        logger.info("inbound mail %s was registered before as %s; nothing changed", parsed.message_id, exc.registration.number)
        return IntakeResult(InboundOutcome.DUPLICATE, exc.registration.number, str(DUPLICATE))
    except IntegrityError:
        # Two deliveries of the same message raced (a webhook retried while we were still busy).
        existing = _duplicate_of(message_id=parsed.message_id, hash_value=hash_value)
        if existing is None:
            logger.exception("inbound mail from %s failed to save", source)
            return _store_error(raw=raw, source=source, reason=str(PROCESSING_FAILED % {"error": "IntegrityError"}), received_at=arrived, parsed=parsed)
        return _duplicate_result(existing)
    except Exception as exc:
        # Whatever went wrong, the message is kept for an officer rather than lost.
        logger.exception("inbound mail from %s could not be processed", source)
        return _store_error(raw=raw, source=source, reason=str(PROCESSING_FAILED % {"error": type(exc).__name__}), received_at=arrived, parsed=parsed)
