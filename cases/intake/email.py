"""E-mail intake: the one service behind the anymail inbound webhooks and ``manage.py import_eml``.

A message runs one way through these steps, each a function of the step before:

1. **store** the raw bytes first, committed, before anything reads them (``InboundMessage``;
   the same bytes twice are one row), so nothing that follows can lose the message;
2. **parse** them once (``parsing.mime.parse_email``) — bytes that are no e-mail become ``error``,
   a message beyond the limits or one that makes the parser give up goes to ``quarantine``;
3. **drop duplicates** by the whole Message-ID's key (or, without one, the content key), which
   the database keeps unique;
4. **read the facts** once (``parsing.rules.read_facts``: bounce, automatic reply, thread);
5. **route** it (``routing.route``: find the thread, classify, and bounce / auto-reply /
   advertising / thread / register).

Every message ends in exactly one outcome (``InboundOutcome``); a failure anywhere after the
first step leaves it in quarantine, never lost and never raised to the webhook:

- ``duplicate``  — the same Message-ID (or, without one, the same content) came before; nothing changes.
- ``error``      — no e-mail at all (empty, no single header); stored raw with the reason.
- ``quarantine`` — an e-mail that could not be processed safely (too large, too deep, too many
  parts, broken beyond reading, or processing failed); stored raw with the reason for a person.
- ``auto_reply`` — an automatic message; never registered, so never acknowledged. An out-of-office
  reply to one of our letters joins that case's timeline; a bounce of one of our letters is
  threaded to its case, marks the citizen's e-mail address undeliverable and sends the letter by post.
- ``thread``     — a reply (In-Reply-To/References to a letter we sent, or a registration number in
  the subject) joins that case's timeline; no new registration.
- ``ignored``    — advertising (charter: all post is registered "behalve reclame"); counted in the log.
- ``case`` / ``triage`` — registered through ``register_item``; complaints and suggestions become
  cases, other mail waits in triage.

The date of receipt is when the municipality received the message: the webhook's arrival, or
for an imported mailbox the topmost ``Received`` header (written by our own mail server); never
the sender's ``Date`` alone, and never later than now.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import dispatch
from cases.intake.mail_attachments import megabytes
from cases.intake.parsing.mime import ParsedEmail, UnparseableEmail, UnsafeEmail, parse_email, parse_headers_only
from cases.intake.parsing.rules import read_facts
from cases.intake.routing import AlreadyRegistered, IntakeResult, route
from cases.models import InboundMessage, InboundOutcome
from cases.one_statement import insert_at_once
from cases.workflow.registration import content_hash, message_key

logger = logging.getLogger(__name__)

__all__ = ["DUPLICATE", "PROCESSING_FAILED", "TOO_LARGE", "IntakeResult", "email_intake", "inbound_process"]

# What the intake says about a message (IntakeResult.message, import_eml --json "message", InboundMessage.reason).
TOO_LARGE = _("Bericht te groot (%(size)s, meer dan %(limit)s): bewaard maar niet verwerkt.")
PROCESSING_FAILED = _("Verwerken mislukt (%(error)s): het bericht is bewaard en wacht op een medewerker.")
DUPLICATE = _("Dit bericht is al eerder ontvangen; er is niets veranderd.")
# The outcome of a deferred intake: stored, a worker processes it (not an InboundOutcome: nothing is decided yet).
STORED = "stored"



def _own_addresses() -> set[str]:
    """The address our letters come from, bare: ``DEFAULT_FROM_EMAIL`` may carry a display name
    ("Gemeente Harlingen <info@harlingen.nl>"), and a mail from it is our own coming back, never a case."""
    return {parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL}

def _reference_of(inbound: InboundMessage | None) -> str:
    if inbound is None:
        return ""
    if inbound.registration_id:
        return inbound.registration.number
    if inbound.case_id:
        return inbound.case.registration.number
    return ""


def _duplicate_result(existing: InboundMessage, of: InboundMessage | None = None) -> IntakeResult:
    """The answer for a message we had already: the first copy's reference."""
    logger.info("inbound mail %s is a duplicate of inbound message %s; nothing changed", "(other bytes)" if of else "(same bytes)", existing.pk)
    return IntakeResult(InboundOutcome.DUPLICATE, _reference_of(existing), str(DUPLICATE), existing.pk)


def _content_key(parsed: ParsedEmail) -> str:
    """Identity of a message without a Message-ID: sender, recipient, date, subject, text and attachments."""
    attachments = " ".join(sorted(hashlib.sha256(part.content).hexdigest() for part in parsed.attachments))
    return content_hash(parsed.from_address, parsed.to_address, parsed.header("Date"), parsed.subject, parsed.text, attachments)


# --- step 1: store ---------------------------------------------------------------------------------
def inbound_store(*, raw: bytes, source: str, arrived: datetime.datetime) -> tuple[InboundMessage, bool]:
    """Keep the raw bytes, committed, before anything reads them; the same bytes twice are one row.

    Returns (row, created). Raises only when the database itself is unreachable (the webhook then
    answers 5xx and the provider tries again later).
    """
    inbound = _new_inbound(raw, source, arrived)
    # No look before the insert: the unique key on the hash refuses the same bytes twice, and a
    # new message (the usual case) costs one statement less.
    try:
        with _raw_kept(inbound, raw), transaction.atomic():
            inbound.save()
    except IntegrityError:
        return InboundMessage.objects.get(raw_sha256=inbound.raw_sha256), False
    return inbound, True


def inbound_store_at_once(*, raw: bytes, source: str, also: Model | None = None) -> InboundMessage:
    """Store a new message for a worker to process, with ``also`` (a webhook post's one-time token), in one
    statement on PostgreSQL (``cases.one_statement``): the row, ``also`` and the message's audit entry.

    A provider waits on this, and it is nearly always a new message with a new token. Raises
    ``IntegrityError``, having stored nothing, when the bytes or ``also`` were seen before: the caller
    then takes ``email_intake``, which answers a duplicate as such."""
    inbound = _new_inbound(raw, source, timezone.now())
    # A refusal must not break a caller's transaction.
    with _raw_kept(inbound, raw), transaction.atomic() if connection.in_atomic_block else nullcontext():
        insert_at_once(*filter(None, [also]), inbound)
    # Lost on the way (a broker restart)? beat's inbound relay processes what waits over 5 minutes.
    dispatch.enqueue_on_commit(dispatch.PROCESS_INBOUND, inbound.pk, robust=True)
    return inbound


def _new_inbound(raw: bytes, source: str, arrived: datetime.datetime) -> InboundMessage:
    return InboundMessage(received_at=arrived, source=source[:40], raw_sha256=hashlib.sha256(raw).hexdigest(), raw_size=len(raw), handled=False)


@contextmanager
def _raw_kept(inbound: InboundMessage, raw: bytes) -> Iterator[None]:
    """The bytes in ``inbound``'s file while its row is inserted in the block. When a unique key refuses the
    row (``IntegrityError``, raised on), the file goes if this delivery wrote it and no row holds it; when
    the row is stored, its file is made sure of (``_drop_raw``, ``_raw_still_there``)."""
    wrote = _keep_raw(inbound, raw, inbound.raw_sha256)
    try:
        yield
    except IntegrityError:
        _drop_raw(inbound, raw, wrote)
        raise
    _raw_still_there(inbound, raw, wrote)


def _keep_raw(inbound: InboundMessage, raw: bytes, digest: str) -> bool:
    """Write the bytes under a name made of their hash; True when this delivery wrote the file.

    A file of that name with those very bytes belongs to the row that has them already (the same
    message delivered again), to a twin delivery at this moment, or was left by a delivery whose
    transaction rolled back (the provider then tries again): it is taken as it is, so a message is
    never kept twice on disk."""
    name = inbound.raw.field.generate_filename(inbound, digest[:32] + ".eml")
    storage = inbound.raw.storage
    try:
        with storage.open(name, "rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() == digest:
                inbound.raw.name = name
                return False
    except FileNotFoundError:
        pass  # none yet, or a twin delivery refused at this moment removed the one it had written
    inbound.raw.save(digest[:32] + ".eml", ContentFile(raw), save=False)
    return True


def _drop_raw(inbound: InboundMessage, raw: bytes, wrote: bool) -> None:
    """A refused delivery removes the file it wrote, unless a row holds it. Never one it took: a twin
    delivery that wrote it may still be storing its row (only the writer removes a file, so a twin
    never finds its own file gone while it writes it)."""
    name, storage = inbound.raw.name, inbound.raw.storage
    if not wrote or InboundMessage.objects.filter(raw=name).exists():
        return
    storage.delete(name)
    # A twin that took the file may have stored its row, and found the file still there, between the look
    # above and the removal: look again, and put the bytes back for that row.
    if InboundMessage.objects.filter(raw=name).exists():
        _write_back(storage, name, raw)


def _raw_still_there(inbound: InboundMessage, raw: bytes, wrote: bool) -> None:
    """A stored row whose file was taken from a twin: the twin, refused, may have removed it just now
    (it looked before this row was committed). Write the bytes again then; the row must have them."""
    if wrote or inbound.raw.storage.exists(inbound.raw.name):
        return
    _write_back(inbound.raw.storage, inbound.raw.name, raw)
    logger.warning("inbound mail %s: its file was removed by a twin delivery while it was stored; written again", inbound.pk)


def _write_back(storage, name: str, raw: bytes) -> None:
    """The bytes under exactly ``name``. Written back at the same moment by another delivery (the refused
    twin and the stored row each see the removal): the same bytes are there, and this copy goes."""
    saved = storage.save(name, ContentFile(raw))
    if saved != name:
        storage.delete(saved)


# --- step 2: parse ---------------------------------------------------------------------------------
def _park(inbound: InboundMessage, *, outcome: str, reason: str, parsed: ParsedEmail | None = None) -> IntakeResult:
    """Leave the message for a person (``error`` or ``quarantine``) with the reason, and what could be read of it."""
    parsed = parsed or ParsedEmail()
    _describe(inbound, parsed)
    inbound.outcome, inbound.reason, inbound.handled = outcome, reason, False
    inbound.save()
    logger.warning("inbound mail %s from %s could not be processed and waits for a person (%s): %s", inbound.pk, inbound.source, outcome, reason)
    return IntakeResult(outcome, "", reason, inbound.pk)


def _parse(inbound: InboundMessage, raw: bytes) -> ParsedEmail | IntakeResult:
    """The parsed message, or the parked row's result when it is too large, no e-mail, or unsafe."""
    limit = settings.HANDVEST_MAIL_MAX_MESSAGE_BYTES
    try:
        if len(raw) > limit:
            reason = str(TOO_LARGE % {"size": megabytes(len(raw)), "limit": megabytes(limit)})
            return _park(inbound, outcome=InboundOutcome.QUARANTINE, reason=reason, parsed=parse_headers_only(raw))
        return parse_email(raw)
    except UnsafeEmail as exc:
        return _park(inbound, outcome=InboundOutcome.QUARANTINE, reason=exc.reason)
    except UnparseableEmail as exc:
        return _park(inbound, outcome=InboundOutcome.ERROR, reason=exc.reason)
    except Exception as exc:
        # Whatever the parser runs into (RecursionError, a charset it cannot handle, ...), the
        # message is already stored: it waits in quarantine rather than being lost.
        logger.exception("inbound mail %s could not be parsed", inbound.pk)
        return _park(inbound, outcome=InboundOutcome.QUARANTINE, reason=str(PROCESSING_FAILED % {"error": type(exc).__name__}))


def _describe(inbound: InboundMessage, parsed: ParsedEmail) -> None:
    inbound.message_id = parsed.message_id or None
    inbound.in_reply_to = parsed.in_reply_to[:500]
    inbound.references = " ".join(parsed.references)
    inbound.from_address = parsed.from_address[:320]
    inbound.from_name = parsed.from_name[:200]
    inbound.to_address = parsed.to_address[:320]
    inbound.subject = parsed.subject[:500]
    inbound.text = parsed.text


def _arrival(parsed: ParsedEmail, arrived: datetime.datetime, date_from_headers: bool) -> datetime.datetime:
    """When the municipality received it: the topmost Received header for an imported mailbox, else the arrival; never in the future."""
    if date_from_headers and parsed.received_at is not None:
        return min(parsed.received_at, timezone.now())
    return arrived


# --- steps 3 to 5: dedupe, facts, route --------------------------------------------------------------
def _claim_identity(inbound: InboundMessage, parsed: ParsedEmail) -> InboundMessage | None:
    """Give the row its Message-ID key (or content key) and save it as read; the message that had the
    key first when this one is a duplicate (then this row is left as it was stored).

    No look before the save: the unique keys on the Message-ID key and on the content key of a message
    without one refuse a second holder, and a new message (the usual case) costs a query and an audited
    save less. A twin delivery that committed its key while this one was read is refused the same way."""
    key = message_key(parsed.message_id)
    inbound.message_key, inbound.content_hash = key, _content_key(parsed)
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:
        inbound.message_key, inbound.content_hash = None, ""
        holders = InboundMessage.objects.select_related("registration", "case__registration").exclude(pk=inbound.pk)
        existing = holders.filter(message_key=key).first() if key else holders.filter(message_key__isnull=True, content_hash=_content_key(parsed)).first()
        if existing is None:
            raise
        return existing
    return None


def _forget_duplicate(inbound: InboundMessage) -> None:
    """A second copy of a message we have (other bytes, same Message-ID or content): the first copy
    is the one kept, so this one is not kept twice."""
    stored = inbound.raw.name
    inbound.delete()
    transaction.on_commit(lambda: inbound.raw.storage.delete(stored))


def _route_stored(inbound_id: int, parsed: ParsedEmail, received_at: datetime.datetime) -> IntakeResult:
    """Steps 3 to 5 in one transaction: all of it happens, or none of it."""
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=inbound_id)
        if inbound.outcome:
            return _duplicate_result(inbound)
        _describe(inbound, parsed)
        inbound.received_at, inbound.handled = received_at, True
        existing = _claim_identity(inbound, parsed)
        if existing is not None:
            _forget_duplicate(inbound)
            return _duplicate_result(existing, of=inbound)
        facts = read_facts(parsed, own_domain=settings.HANDVEST_MAIL_DOMAIN, own_addresses=_own_addresses())
        return route(inbound, parsed, facts)


def inbound_process(inbound: InboundMessage, raw: bytes, *, date_from_headers: bool = False) -> IntakeResult:
    """Steps 2 to 5 for a stored message. Never raises: what fails leaves the message in quarantine."""
    parsed = _parse(inbound, raw)
    if isinstance(parsed, IntakeResult):
        return parsed
    try:
        return _route_stored(inbound.pk, parsed, _arrival(parsed, inbound.received_at, date_from_headers))
    except AlreadyRegistered as exc:
        logger.info("inbound mail %s was registered before as %s; nothing changed", inbound.pk, exc.registration.number)
        with transaction.atomic():
            _forget_duplicate(inbound)
        return IntakeResult(InboundOutcome.DUPLICATE, exc.registration.number, str(DUPLICATE), inbound.pk)
    except Exception as exc:
        # Whatever went wrong, the message is kept for a person rather than lost.
        logger.exception("inbound mail %s from %s could not be processed", inbound.pk, inbound.source)
        inbound.refresh_from_db()
        return _park(inbound, outcome=InboundOutcome.QUARANTINE, reason=str(PROCESSING_FAILED % {"error": type(exc).__name__}), parsed=parsed)


def email_intake(
    *,
    raw: bytes,
    source: str,
    received_at: datetime.datetime | None = None,
    date_from_headers: bool = False,
    defer: bool = False,
) -> IntakeResult:
    """Take in one e-mail (raw RFC 5322 bytes) from ``source`` (``webhook:mailgun``, ``eml``, ``mbox`` ...).

    ``received_at`` is when it arrived (default: now, as for a webhook post); ``date_from_headers``
    takes it from the message's topmost Received header instead, for imported mailboxes.
    ``defer``: only store it here, and have a worker process it after commit (``STORED``): the web
    process that takes a webhook never loads the tagger, and the worker decides the kind with it.
    Idempotent: the same message again returns ``duplicate`` and changes nothing.
    """
    raw = bytes(raw or b"")
    now = timezone.now()
    inbound, created = inbound_store(raw=raw, source=source, arrived=min(received_at or now, now))
    if not created and inbound.outcome:
        return _duplicate_result(inbound)
    if defer:
        # Lost on the way (a broker restart)? beat's inbound relay processes what waits over 5 minutes.
        dispatch.enqueue_on_commit(dispatch.PROCESS_INBOUND, inbound.pk, robust=True)
        return IntakeResult(STORED, "", "", inbound.pk)
    return inbound_process(inbound, raw, date_from_headers=date_from_headers)


# --- a crash left it stored but not processed --------------------------------------------------------
IMPORTED_SOURCES = ("eml", "mbox", "maildir")


def inbound_pending(*, older_than_minutes: int = 5, now: datetime.datetime | None = None) -> list[int]:
    """Messages stored but never processed (their process died after step 1), oldest first."""
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=older_than_minutes)
    return list(InboundMessage.objects.filter(outcome="", received_at__lt=cutoff).order_by("pk").values_list("pk", flat=True))


def inbound_resume(*, inbound_id: int, deferred: bool = False) -> IntakeResult:
    """Process a stored message from its kept raw bytes (a ``defer``-red webhook's task, or beat's inbound
    relay for what a crash left); a no-op when it was processed meanwhile."""
    inbound = InboundMessage.objects.get(pk=inbound_id)
    if inbound.outcome:
        return _duplicate_result(inbound)
    with inbound.raw.open("rb") as handle:
        raw = handle.read()
    if not deferred:
        logger.warning("inbound mail %s was stored but not processed; processing it now", inbound.pk)
    return inbound_process(inbound, raw, date_from_headers=inbound.source in IMPORTED_SOURCES)
