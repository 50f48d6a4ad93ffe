"""E-mail intake: the one service behind the anymail inbound webhooks and ``manage.py import_eml``.

Every message is kept as it arrived (``InboundMessage.raw``), whatever happens to it, and ends in
exactly one outcome (``InboundOutcome``):

- ``duplicate``  — the same Message-ID (or, without one, the same content) came before; nothing changes.
- ``error``      — no e-mail, or too large; stored raw with the reason, listed for an officer.
- ``auto_reply`` — an automatic message (the loop rules of ``cases.intake.email``); never registered,
  so it never gets an acknowledgement. An out-of-office reply to one of our letters joins that
  case's timeline; a bounce of one of our letters is threaded to its case and marks the citizen's
  e-mail address undeliverable.
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
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.intake import classify
from cases.intake.email import (
    ParsedEmail,
    UnparseableEmail,
    bounce_info,
    decode_header_text,
    header_value,
    is_bounce,
    loop_reason,
    normalize_message_id,
    parse_address,
    parse_email,
    parse_headers_only,
    registration_numbers,
    thread_ids,
)
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    EventKind,
    InboundMessage,
    InboundOutcome,
    IntakeChannel,
    OutgoingMessage,
    Registration,
)
from cases.services.registration import Sender, content_hash, register_item

logger = logging.getLogger(__name__)

# What the intake says about a message (IntakeResult.message, import_eml --json "message", InboundMessage.reason).
TOO_LARGE = _("Bericht te groot (%(size)s, meer dan %(limit)s): bewaard maar niet verwerkt.")
PROCESSING_FAILED = _("Verwerken mislukt (%(error)s): het bericht is bewaard en wacht op een medewerker.")
DUPLICATE = _("Dit bericht is al eerder ontvangen; er is niets veranderd.")
ADVERTISING = _("Reclame, niet geregistreerd (%(reason)s).")
AUTO_REPLY = _("Automatisch bericht, niet geregistreerd en niet beantwoord (%(reason)s).")
AUTO_REPLY_THREADED = _("Automatisch bericht bij zaak %(number)s, niet beantwoord (%(reason)s).")
BOUNCE_THREADED = _("Onbestelbaar-melding van onze brief bij zaak %(number)s (%(reason)s).")
THREADED = _("Reactie bij %(number)s gevoegd.")
REGISTERED_CASE = _("Geregistreerd als %(kind)s: %(number)s.")
REGISTERED_TRIAGE = _("Geregistreerd als overige post, wacht in triage: %(number)s.")
ATTACHMENT_TOO_LARGE = _("Bijlage '%(name)s' (%(size)s) niet bewaard: groter dan %(limit)s per bestand.")
ATTACHMENTS_TOO_LARGE = _("Bijlage '%(name)s' (%(size)s) niet bewaard: samen met de andere bijlagen meer dan %(limit)s.")

# Timeline notes for the officer.
NOTE_REPLY = _("E-mail ontvangen van %(sender)s: %(subject)s")
NOTE_REPLY_OTHER_SENDER = _("Let op: afzender %(sender)s is niet het adres van de indiener.")
NOTE_AUTO_REPLY = _("Automatisch antwoord ontvangen van %(sender)s: %(subject)s")
NOTE_BOUNCE_PERMANENT = _("E-mail aan %(recipient)s kwam niet aan (%(diagnostic)s). Het adres is als onbestelbaar gemarkeerd: volgende brieven gaan per post.")
NOTE_BOUNCE_TEMPORARY = _("E-mail aan %(recipient)s is vertraagd (%(diagnostic)s); de ESP probeert het opnieuw.")
NOTE_ATTACHMENTS_DROPPED = _("Niet alle bijlagen van de e-mail zijn bewaard: %(notes)s Het originele bericht is bewaard.")


@dataclass(frozen=True)
class IntakeResult:
    """What became of one message; ``reference`` is the registration number it concerns, if any."""

    outcome: str
    reference: str = ""
    message: str = ""
    inbound_id: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {"outcome": self.outcome, "reference": self.reference, "message": self.message}


class _AlreadyRegistered(Exception):
    def __init__(self, registration: Registration):
        self.registration = registration


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


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


def _store_error(
    *, raw: bytes, source: str, reason: str, received_at: datetime.datetime | None, parsed: ParsedEmail | None = None, headers=None
) -> IntakeResult:
    """Keep a message that could not be processed, raw and with the reason; never drop it."""
    if parsed is not None:
        message_id, subject, text = parsed.message_id, parsed.subject, parsed.text
        from_name, from_address, to_address = parsed.from_name, parsed.from_address, parsed.to_address
        in_reply_to, references = parsed.in_reply_to, " ".join(parsed.references)
    elif headers is not None:
        message_id = normalize_message_id(header_value(headers, "Message-ID"))
        subject = header_value(headers, "Subject")[:500]
        from_name, from_address = parse_address(header_value(headers, "From"))
        to_address = parse_address(header_value(headers, "To"))[1]
        text, in_reply_to, references = "", "", ""
    else:
        message_id = subject = text = from_name = from_address = to_address = in_reply_to = references = ""
    hash_value = hashlib.sha256(raw).hexdigest()
    existing = _duplicate_of(message_id=message_id, hash_value="" if message_id else hash_value)
    if existing is not None:
        return _duplicate_result(existing)
    inbound = InboundMessage(
        received_at=received_at or timezone.now(),
        source=source[:40],
        message_id=message_id or None,
        in_reply_to=in_reply_to[:500],
        references=references,
        from_address=from_address[:320],
        from_name=from_name[:200],
        to_address=to_address[:320],
        subject=subject[:500],
        text=text,
        raw_size=len(raw),
        content_hash=hash_value,
        outcome=InboundOutcome.ERROR,
        reason=reason,
        handled=False,
    )
    inbound.raw.save(_raw_name(hash_value), ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:
        existing = _duplicate_of(message_id=message_id, hash_value=hash_value)
        if existing is None:
            raise
        return _duplicate_result(existing)
    logger.warning("inbound mail from %s could not be processed and waits for an officer (inbound %s): %s", source, inbound.pk, reason)
    return IntakeResult(InboundOutcome.ERROR, "", reason, inbound.pk)


def email_intake(*, raw: bytes, source: str, received_at: datetime.datetime | None = None, date_from_headers: bool = False) -> IntakeResult:
    """Take in one e-mail (raw RFC 5322 bytes) from ``source`` (``webhook:mailgun``, ``eml``, ``mbox`` ...).

    ``received_at`` is when it arrived (the ESP's timestamp); ``date_from_headers`` takes it from
    the message itself (its topmost Received header, else Date), for imported mailboxes.
    Idempotent: a retry returns ``duplicate`` and changes nothing.
    """
    raw = bytes(raw or b"")
    limit = settings.HANDVEST_MAIL_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        reason = str(TOO_LARGE % {"size": _megabytes(len(raw)), "limit": _megabytes(limit)})
        return _store_error(raw=raw, source=source, reason=reason, received_at=received_at, headers=parse_headers_only(raw))
    try:
        parsed = parse_email(raw)
    except UnparseableEmail as exc:
        return _store_error(raw=raw, source=source, reason=exc.reason, received_at=received_at)
    arrived = _received_at(parsed, received_at, date_from_headers)
    hash_value = _message_hash(parsed)
    existing = _duplicate_of(message_id=parsed.message_id, hash_value=hash_value)
    if existing is not None:
        return _duplicate_result(existing)
    try:
        with transaction.atomic():
            inbound = _new_inbound(parsed=parsed, raw=raw, source=source, received_at=arrived, hash_value=hash_value)
            return _route(inbound, parsed)
    except _AlreadyRegistered as exc:
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


def _new_inbound(*, parsed: ParsedEmail, raw: bytes, source: str, received_at: datetime.datetime, hash_value: str) -> InboundMessage:
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
        handled=True,
    )
    inbound.raw.save(_raw_name(hashlib.sha256(raw).hexdigest()), ContentFile(raw), save=False)
    inbound.save()
    return inbound


def _finish(inbound: InboundMessage, *, outcome: str, reason: str, registration: Registration | None = None, case: Case | None = None) -> None:
    inbound.outcome = outcome
    inbound.reason = reason
    inbound.registration = registration or (case.registration if case is not None else None)
    inbound.case = case
    inbound.save(update_fields=["outcome", "reason", "registration", "case"])


# --- routing ----------------------------------------------------------------------------------------


def _follow_merges(case: Case) -> Case:
    seen = set()
    while case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = Case.objects.select_related("registration").get(pk=case.merged_into_id)
    return case


def _outgoing_for(message_ids: list[str]) -> OutgoingMessage | None:
    """The letter we sent that one of these Message-IDs names (nearest first)."""
    if not message_ids:
        return None
    candidates = set(message_ids) | {mid.strip("<>") for mid in message_ids}
    found = {out.message_id: out for out in OutgoingMessage.objects.filter(message_id__in=candidates).select_related("case__registration")}
    for mid in message_ids:
        out = found.get(mid) or found.get(mid.strip("<>"))
        if out is not None:
            return out
    return None


def _thread_target(parsed: ParsedEmail) -> tuple[Registration | None, Case | None, str]:
    """What this message answers: a letter we sent (In-Reply-To/References), an earlier mail of the
    same thread, or a registration number in the subject."""
    ids = thread_ids(parsed)
    outgoing = _outgoing_for(ids)
    if outgoing is not None:
        case = _follow_merges(outgoing.case)
        return case.registration, case, f"antwoord op onze brief {outgoing.message_id}"
    if ids:
        earlier = (
            InboundMessage.objects.filter(message_id__in=ids, registration__isnull=False)
            .exclude(outcome=InboundOutcome.ERROR)
            .select_related("registration")
            .order_by("-received_at")
            .first()
        )
        if earlier is not None:
            registration = earlier.registration
            case = getattr(registration, "case", None)
            return registration, _follow_merges(case) if case else None, f"vervolg op e-mail {earlier.message_id}"
    numbers = registration_numbers(parsed.subject)
    if numbers:
        by_number = {r.number: r for r in Registration.objects.filter(number__in=numbers)}
        for number in numbers:
            registration = by_number.get(number)
            if registration is not None:
                case = getattr(registration, "case", None)
                if case is not None:
                    case = _follow_merges(case)
                    registration = case.registration
                return registration, case, f"registratienummer {number} in het onderwerp"
    return None, None, ""


def _sender_label(parsed: ParsedEmail) -> str:
    if parsed.from_name and parsed.from_address:
        return f"{parsed.from_name} <{parsed.from_address}>"
    return parsed.from_address or parsed.from_name or "onbekende afzender"


def _event_data(inbound: InboundMessage, parsed: ParsedEmail, **extra) -> dict:
    return {"inbound_message_id": inbound.pk, "message_id": parsed.message_id, "from": parsed.from_address, "subject": parsed.subject, **extra}


def _route(inbound: InboundMessage, parsed: ParsedEmail) -> IntakeResult:
    if is_bounce(parsed):
        return _route_bounce(inbound, parsed)
    own_addresses = {settings.DEFAULT_FROM_EMAIL}
    loop = loop_reason(parsed, own_domain=settings.HANDVEST_MAIL_DOMAIN, own_addresses=own_addresses)
    registration, case, how = _thread_target(parsed)
    headers = {name: parsed.header(name) for name in classify.CAMPAIGN_HEADERS}
    classification = None
    if loop is not None and not loop.strong and registration is None:
        classification = classify.classify_kind(subject=parsed.subject, text=parsed.text, headers=headers)
        if classification.kind == classify.ADVERTISING:
            return _route_advertising(inbound, classification.reason)
    if loop is not None:
        return _route_auto_reply(inbound, parsed, loop.reason, registration, case)
    if registration is not None:
        return _route_thread(inbound, parsed, registration, case, how)
    classification = classification or classify.classify_kind(subject=parsed.subject, text=parsed.text, headers=headers)
    if classification.kind == classify.ADVERTISING:
        return _route_advertising(inbound, classification.reason)
    return _route_register(inbound, parsed, classification)


def _route_bounce(inbound: InboundMessage, parsed: ParsedEmail) -> IntakeResult:
    info = bounce_info(parsed)
    outgoing = _outgoing_for(info.returned_message_ids)
    reason = "bounce" + (f": {info.diagnostic}" if info.diagnostic else "")
    if outgoing is None:
        _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason)
        logger.info("bounce for a message that is not ours (returned %s); not registered", ", ".join(info.returned_message_ids) or "unknown")
        return IntakeResult(InboundOutcome.AUTO_REPLY, "", str(AUTO_REPLY % {"reason": reason}), inbound.pk)
    case = _follow_merges(outgoing.case)
    registration = Registration.objects.select_for_update().get(pk=case.registration_id)
    recipient = outgoing.to_email or (info.recipients[0] if info.recipients else registration.sender_email)
    diagnostic = info.diagnostic or ("permanent" if info.permanent else "tijdelijk")
    if info.permanent:
        if not registration.email_undeliverable:
            registration.email_undeliverable = True
            registration.save(update_fields=["email_undeliverable"])
        note = NOTE_BOUNCE_PERMANENT % {"recipient": recipient, "diagnostic": diagnostic}
    else:
        note = NOTE_BOUNCE_TEMPORARY % {"recipient": recipient, "diagnostic": diagnostic}
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.NOTE,
        name="bounce",
        note=str(note),
        internal=True,
        data=_event_data(inbound, parsed, returned_message_id=outgoing.message_id, permanent=info.permanent, recipients=info.recipients),
    )
    _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason, case=case)
    logger.warning("bounce of %s for %s (%s): %s", outgoing.message_id, registration.number, "permanent" if info.permanent else "temporary", diagnostic)
    return IntakeResult(InboundOutcome.AUTO_REPLY, registration.number, str(BOUNCE_THREADED % {"number": registration.number, "reason": reason}), inbound.pk)


def _route_auto_reply(inbound: InboundMessage, parsed: ParsedEmail, reason: str, registration: Registration | None, case: Case | None) -> IntakeResult:
    if case is not None:
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.MESSAGE_IN,
            name="auto_reply",
            note=str(NOTE_AUTO_REPLY % {"sender": _sender_label(parsed), "subject": parsed.subject}),
            internal=True,
            data=_event_data(inbound, parsed, reason=reason),
        )
    _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason, registration=registration, case=case)
    if registration is not None:
        logger.info("auto-reply (%s) joins %s; no acknowledgement", reason, registration.number)
        return IntakeResult(
            InboundOutcome.AUTO_REPLY, registration.number, str(AUTO_REPLY_THREADED % {"number": registration.number, "reason": reason}), inbound.pk
        )
    logger.info("auto-reply from %s not registered (%s)", parsed.from_address or "?", reason)
    return IntakeResult(InboundOutcome.AUTO_REPLY, "", str(AUTO_REPLY % {"reason": reason}), inbound.pk)


def _route_advertising(inbound: InboundMessage, reason: str) -> IntakeResult:
    _finish(inbound, outcome=InboundOutcome.IGNORED, reason=reason)
    day = timezone.localdate(inbound.received_at)
    count = InboundMessage.objects.filter(outcome=InboundOutcome.IGNORED, received_at__date=day).count()
    logger.info(
        "advertising not registered (charter: 'behalve reclame'): %s from %s; %d advertising message(s) received on %s",
        inbound.subject,
        inbound.from_address,
        count,
        day.isoformat(),
    )
    return IntakeResult(InboundOutcome.IGNORED, "", str(ADVERTISING % {"reason": reason}), inbound.pk)


def _route_thread(inbound: InboundMessage, parsed: ParsedEmail, registration: Registration, case: Case | None, how: str) -> IntakeResult:
    notes = _store_attachments(inbound, parsed, registration)
    if case is not None:
        note = str(NOTE_REPLY % {"sender": _sender_label(parsed), "subject": parsed.subject or "(geen onderwerp)"})
        known = {address.lower() for address in (registration.sender_email,) if address}
        if known and parsed.reply_address.lower() not in known and parsed.from_address.lower() not in known:
            note += " " + str(NOTE_REPLY_OTHER_SENDER % {"sender": parsed.from_address or "?"})
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.MESSAGE_IN,
            name="email",
            note=note,
            internal=True,
            data=_event_data(inbound, parsed, how=how, text=parsed.text[:5000]),
        )
        _note_dropped(case, notes)
    _finish(inbound, outcome=InboundOutcome.THREAD, reason=how + _dropped_suffix(notes), registration=registration, case=case)
    logger.info("reply joins %s (%s)", registration.number, how)
    return IntakeResult(InboundOutcome.THREAD, registration.number, str(THREADED % {"number": registration.number}), inbound.pk)


def _route_register(inbound: InboundMessage, parsed: ParsedEmail, classification: classify.Classification) -> IntakeResult:
    registration, created = register_item(
        channel=IntakeChannel.EMAIL,
        kind=classification.kind,
        text=parsed.text,
        subject=parsed.subject,
        sender=Sender(name=parsed.from_name, email=parsed.reply_address),
        received_on=timezone.localdate(inbound.received_at),
        message_id=parsed.message_id or None,
        hash_value=inbound.content_hash,
    )
    if not created:
        raise _AlreadyRegistered(registration)
    notes = _store_attachments(inbound, parsed, registration)
    case = getattr(registration, "case", None)
    if case is not None:
        _note_dropped(case, notes)
        outcome, message = InboundOutcome.CASE, REGISTERED_CASE % {"kind": registration.get_kind_display(), "number": registration.number}
    else:
        outcome, message = InboundOutcome.TRIAGE, REGISTERED_TRIAGE % {"number": registration.number}
    reason = f"{classification.kind} ({classification.source})" + _dropped_suffix(notes)
    _finish(inbound, outcome=outcome, reason=reason, registration=registration, case=case)
    return IntakeResult(outcome, registration.number, str(message) + _dropped_suffix(notes), inbound.pk)


# --- attachments ------------------------------------------------------------------------------------


def _dropped_suffix(notes: list[str]) -> str:
    return (" " + " ".join(notes)) if notes else ""


def _note_dropped(case: Case, notes: list[str]) -> None:
    if notes:
        CaseEvent.objects.create(case=case, kind=EventKind.NOTE, name="attachments_dropped", note=str(NOTE_ATTACHMENTS_DROPPED % {"notes": " ".join(notes)}))


def _store_attachments(inbound: InboundMessage, parsed: ParsedEmail, registration: Registration) -> list[str]:
    """Keep the attachments within the limits (per file and in total); return a note per dropped one."""
    per_file = settings.HANDVEST_MAIL_MAX_ATTACHMENT_BYTES
    total_limit = settings.HANDVEST_MAIL_MAX_ATTACHMENTS_BYTES
    total = 0
    notes: list[str] = []
    for part in parsed.attachments:
        size = part.size
        if size == 0:
            continue
        if size > per_file:
            notes.append(str(ATTACHMENT_TOO_LARGE % {"name": part.filename, "size": _megabytes(size), "limit": _megabytes(per_file)}))
            continue
        if total + size > total_limit:
            notes.append(str(ATTACHMENTS_TOO_LARGE % {"name": part.filename, "size": _megabytes(size), "limit": _megabytes(total_limit)}))
            continue
        total += size
        digest = hashlib.sha256(part.content).hexdigest()
        extension = os.path.splitext(part.filename)[1][:10].lower()
        attachment = Attachment(
            registration=registration,
            inbound_message=inbound,
            filename=decode_header_text(part.filename)[:255] or "bijlage",
            content_type=part.content_type[:100],
            size=size,
            sha256=digest,
        )
        attachment.file.save(digest[:32] + "".join(ch for ch in extension if ch.isalnum() or ch == "."), ContentFile(part.content), save=False)
        attachment.save()
    for note in notes:
        logger.warning("%s: %s", registration.number, note)
    return notes
