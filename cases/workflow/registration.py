"""Registering incoming items: numbers, dates of receipt, and the case for a complaint or suggestion."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases import errors
from cases.models import (
    Case,
    CaseEvent,
    EventKind,
    IntakeChannel,
    Kind,
    Registration,
    RegistrationCounter,
    ReplyChannel,
    TriageState,
)
from cases.signals import case_registered
from cases.workflow.deadlines import case_deadlines
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sender:
    name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""


def content_hash(*parts: str) -> str:
    """Identity of a message without a Message-ID: the same sender, subject and text give the same hash."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(" ".join((part or "").split()).lower().encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def message_key(message_id: str | None) -> str | None:
    """The key of a whole Message-ID, however long (its SHA-256), or None when there is none."""
    if not message_id:
        return None
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def next_registration_number(*, prefix: str, year: int) -> str:
    """Take the next number of the year; call inside a transaction (the counter row stays locked until commit,
    so numbers are gap-free and never given twice).

    One statement that creates the year's counter or adds one to it: Django's ORM has no upsert that adds
    (``bulk_create(update_conflicts=True)`` only overwrites), so this is SQL, which both databases speak.
    """
    table = connection.ops.quote_name(RegistrationCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, year, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix, year],
        )
        (last,) = cursor.fetchone()
    return f"{prefix}-{year}-{last:06d}"


def registration_find_existing(*, message_id: str | None, hash_value: str | None) -> Registration | None:
    if message_id:
        return Registration.objects.filter(message_key=message_key(message_id)).first()
    if hash_value:
        return Registration.objects.filter(content_hash=hash_value).first()
    return None


EARLIEST_YEAR = 2000  # registration numbers carry four digits of year


def _check_item(*, channel: str, kind: str, received_on: datetime.date | None) -> datetime.date:
    """The date of receipt (today when not given); never in the future. Unknown channels and kinds are programming errors."""
    today = timezone.localdate()
    received_on = received_on or today
    if received_on > today:
        raise ValidationError({"received_on": errors.RECEIVED_IN_FUTURE})
    if received_on.year < EARLIEST_YEAR:  # a year typed as 26 (0026): a number and terms no one would find
        raise ValidationError({"received_on": errors.RECEIVED_TOO_EARLY % {"year": EARLIEST_YEAR}})
    IntakeChannel(channel)
    Kind(kind)
    return received_on


def register_item(
    *,
    channel: str,
    kind: str,
    text: str,
    subject: str = "",
    sender: Sender = Sender(),
    received_on: datetime.date | None = None,
    reply_channel: str | None = None,
    message_id: str | None = None,
    hash_value: str | None = None,
    callback_requested: bool = False,
    actor=None,
    number: str | None = None,
    public_token: str | None = None,
) -> tuple[Registration, bool]:
    """Register an incoming item exactly once; return (registration, created).

    ``number`` and ``public_token``: taken before, when the item was stored (a web form's submission,
    ``cases.intake.web_submissions``), instead of now.

    The same Message-ID (or, without one, the same content hash) returns the existing
    registration and changes nothing. The database decides: its unique keys refuse the second
    row, and the number taken for it is given back with the rolled-back insert (no gap). Not
    asking first saves a statement on every registration; a duplicate costs one more instead.
    """
    received_on = _check_item(channel=channel, kind=kind, received_on=received_on)
    message_id = (message_id or "").strip() or None
    fields = {
        "received_on": received_on,
        "channel": channel,
        "kind": kind,
        "subject": subject[:300],
        "text": text,
        "sender_name": sender.name,
        "sender_email": sender.email,
        "sender_phone": sender.phone,
        "sender_address": sender.address,
        "reply_channel": reply_channel or (ReplyChannel.EMAIL if sender.email else ReplyChannel.POST),
        "message_id": message_id,
        "message_key": message_key(message_id),
        "content_hash": hash_value or "",
        "triage_state": TriageState.PENDING if kind == Kind.OTHER else "",
        "registered_by": actor,
    }
    return _create(fields, callback_requested=callback_requested, number=number, public_token=public_token)


def _create(fields: dict, *, callback_requested: bool, number: str | None, public_token: str | None) -> tuple[Registration, bool]:
    """Number and save the registration, and open its case, in one transaction; a twin that won the race is returned instead."""
    try:
        with transaction.atomic():
            number = number or next_registration_number(prefix=MunicipalitySettings.current().registration_prefix, year=fields["received_on"].year)
            registration = Registration.objects.create(number=number, **fields)
            if registration.kind != Kind.OTHER:
                case_open(registration=registration, actor=fields["registered_by"], callback_requested=callback_requested, public_token=public_token)
    except IntegrityError:
        # The same message again (a retry, a double click), or two deliveries that raced: return the first.
        existing = registration_find_existing(message_id=fields["message_id"], hash_value=fields["content_hash"] or None)
        if existing is None:
            raise
        logger.info("duplicate of %s ignored (message_id=%s)", existing.number, fields["message_id"])
        return existing, False
    logger.info("registered %s (%s, %s, received %s)", registration.number, registration.channel, registration.kind, registration.received_on)
    return registration, True


def case_open(*, registration: Registration, actor=None, callback_requested: bool = False, public_token: str | None = None) -> Case:
    """Make the case of a complaint or suggestion, with its deadlines, and log it; queue its tagging after commit."""
    case = Case.objects.create(
        registration=registration,
        kind=registration.kind,
        **({"public_token": public_token} if public_token else {}),
        **case_deadlines(received_on=registration.received_on, callback_requested=callback_requested),
    )
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=EventKind.REGISTERED,
        name="register",
        to_state=case.state,
        internal=False,
        note=f"{registration.number}, ontvangen {registration.received_on:%d-%m-%Y} via {registration.get_channel_display()}",
    )
    transaction.on_commit(lambda: case_registered.send(sender=Case, case_id=case.pk))
    return case
