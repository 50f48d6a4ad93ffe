"""Triage: other mail, and e-mail the intake could not process, until an officer decides.

Other mail (*overige post*: questions, forms, invoices, thanks) is registered but is no case; it
waits in the triage list until an officer turns it into a case, forwards it or marks it done.
E-mails the intake could not process (``InboundMessage`` with outcome ``error``) wait there too.
Every decision is logged (Python logging and Wagtail's audit log, or the case timeline).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from cases import errors
from cases.errors import WorkflowError
from cases.models import (
    Attachment,
    Case,
    InboundMessage,
    IntakeChannel,
    Kind,
    Registration,
    TriageState,
)
from cases.permissions import HANDLE_CASE, require
from cases.workflow.registration import Sender, case_open, register_item

logger = logging.getLogger(__name__)

TRIAGE_ALREADY_DECIDED = _("Over dit stuk is al beslist (%(state)s). Vernieuw de lijst.")
TRIAGE_NOT_OTHER = _("Dit stuk is al een %(kind)s en staat niet in de triagelijst.")
TRIAGE_CASE_KIND = _("Kies klacht of verbetersuggestie.")
TRIAGE_KIND = _("Kies klacht, verbetersuggestie of overig.")
FORWARD_ADDRESS = _("Vul een geldig e-mailadres in om naar door te sturen.")
MESSAGE_ALREADY_HANDLED = _("Dit bericht is al afgehandeld.")
FORWARD_FAILED = _("Doorsturen naar %(to)s is niet gelukt: de mailserver nam het bericht niet aan. Het staat nog op de lijst; probeer het later opnieuw.")
MESSAGE_NEEDS_TEXT = _("Het bericht heeft geen leesbare tekst. Neem de tekst over uit het originele bericht.")

LOG_CONVERTED = "handvest.triage.converted"
LOG_FORWARDED = "handvest.triage.forwarded"
LOG_DONE = "handvest.triage.done"
LOG_MESSAGE_REGISTERED = "handvest.inbound.registered"
LOG_MESSAGE_FORWARDED = "handvest.inbound.forwarded"
LOG_MESSAGE_DONE = "handvest.inbound.done"
LOG_ACTIONS = {
    LOG_CONVERTED: (_("Omgezet in zaak"), _("Overige post omgezet in een zaak")),
    LOG_FORWARDED: (_("Doorgestuurd"), _("Overige post doorgestuurd")),
    LOG_DONE: (_("Afgehandeld"), _("Overige post afgehandeld")),
    LOG_MESSAGE_REGISTERED: (_("Geregistreerd"), _("Onleesbare e-mail alsnog geregistreerd")),
    LOG_MESSAGE_FORWARDED: (_("Doorgestuurd"), _("Onleesbare e-mail doorgestuurd")),
    LOG_MESSAGE_DONE: (_("Afgehandeld"), _("Onleesbare e-mail afgehandeld")),
}


def _pending_other(registration_id: int) -> Registration:
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.kind != Kind.OTHER:
        raise WorkflowError(TRIAGE_NOT_OTHER % {"kind": registration.get_kind_display()})
    if registration.triage_state != TriageState.PENDING:
        raise WorkflowError(TRIAGE_ALREADY_DECIDED % {"state": registration.get_triage_state_display()})
    return registration


def _clean_address(to: str) -> str:
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": FORWARD_ADDRESS})
    return to


def triage_convert(*, registration_id: int, kind: str, actor) -> Case:
    """Turn other mail into a complaint or suggestion case; its date of receipt (and so its deadlines) stays."""
    if kind not in (Kind.COMPLAINT, Kind.SUGGESTION):
        raise ValidationError({"kind": TRIAGE_CASE_KIND})
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        registration = _pending_other(registration_id)
        registration.kind = kind
        registration.triage_state = TriageState.CONVERTED
        registration.save(update_fields=["kind", "triage_state"])
        case = case_open(registration=registration, actor=actor)
        log(registration, LOG_CONVERTED, user=actor, data={"kind": kind, "case": case.pk})
    logger.info("triage: %s converted into a %s case by %s", registration.number, kind, getattr(actor, "username", "system"))
    return case


def _forward_mail(*, to: str, subject: str, body: str, files: list[tuple[str, object, str]]) -> None:
    """Send the forward now, inside the caller's transaction: when the mail server refuses it, the item is not
    marked forwarded (it stays on the list) and the officer reads why, instead of a forward that never left."""
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    for name, field, content_type in files:
        try:
            with field.open("rb") as handle:
                message.attach(name, handle.read(), content_type)
        except (OSError, ValueError) as exc:
            logger.warning("forward to %s: attachment %s missing (%s); sent without it", to, name, exc)
    try:
        message.send()
    except Exception as exc:  # SMTP, connection and ESP errors alike (anymail raises its own kinds): the forward did not leave
        logger.warning("forward to %s failed: %s: %s; the item stays on the list", to, type(exc).__name__, exc)
        raise WorkflowError(FORWARD_FAILED % {"to": to}) from exc


def triage_forward(*, registration_id: int, to: str, actor, note: str = "") -> Registration:
    """Forward other mail by e-mail (with its attachments) to whoever it is for, and take it off the list."""
    to = _clean_address(to)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        registration = _pending_other(registration_id)
        registration.triage_state = TriageState.FORWARDED
        registration.save(update_fields=["triage_state"])
        log(registration, LOG_FORWARDED, user=actor, data={"to": to, "note": note.strip()})
        body = render_to_string("cases/admin/workspace/forward_email.txt", {"registration": registration, "note": note.strip()})
        files = [(a.filename, a.file, a.content_type) for a in registration.attachments.all()]
        subject = f"Doorgestuurd: {registration.number} {registration.subject}".strip()
        _forward_mail(to=to, subject=subject, body=body, files=files)
    logger.info("triage: %s forwarded to %s by %s", registration.number, to, getattr(actor, "username", "system"))
    return registration


def triage_done(*, registration_id: int, actor, note: str = "") -> Registration:
    """Mark other mail as handled (answered directly, filed, no action needed)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        registration = _pending_other(registration_id)
        registration.triage_state = TriageState.DONE
        registration.save(update_fields=["triage_state"])
        log(registration, LOG_DONE, user=actor, data={"note": note.strip()})
    logger.info("triage: %s marked done by %s", registration.number, getattr(actor, "username", "system"))
    return registration


def _unhandled_error(message_id: int) -> InboundMessage:
    message = InboundMessage.objects.select_for_update().get(pk=message_id)
    if message.handled:
        raise WorkflowError(MESSAGE_ALREADY_HANDLED)
    return message


def inbound_register(*, message_id: int, kind: str, actor, text: str = "", subject: str = "") -> Registration:
    """Register an e-mail the intake could not process, with the text the officer read from the original.

    Its date of receipt is the day it arrived, not today.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": TRIAGE_KIND})
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        message = _unhandled_error(message_id)
        body = text.strip() or message.text.strip()
        if not body:
            raise ValidationError({"text": MESSAGE_NEEDS_TEXT})
        registration, _created = register_item(
            channel=IntakeChannel.EMAIL,
            kind=kind,
            text=body,
            subject=(subject.strip() or message.subject)[:300],
            sender=Sender(name=message.from_name, email=message.from_address if "@" in message.from_address else ""),
            received_on=timezone.localdate(message.received_at),
            message_id=message.message_id,
            actor=actor,
        )
        message.registration = registration
        message.case = getattr(registration, "case", None)
        message.handled = True
        message.save(update_fields=["registration", "case", "handled"])
        Attachment.objects.filter(inbound_message=message, registration__isnull=True).update(registration=registration)
        log(message, LOG_MESSAGE_REGISTERED, user=actor, data={"registration": registration.number, "kind": kind})
    logger.info("triage: inbound message %s registered as %s by %s", message.pk, registration.number, getattr(actor, "username", "system"))
    return registration


def inbound_forward(*, message_id: int, to: str, actor, note: str = "") -> InboundMessage:
    """Forward an unprocessable e-mail as it arrived (the original as .eml) and take it off the list."""
    to = _clean_address(to)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        message = _unhandled_error(message_id)
        message.handled = True
        message.save(update_fields=["handled"])
        log(message, LOG_MESSAGE_FORWARDED, user=actor, data={"to": to, "note": note.strip()})
        body = render_to_string("cases/admin/workspace/forward_inbound_email.txt", {"message": message, "note": note.strip()})
        files = [(f"origineel-{message.pk}.eml", message.raw, "message/rfc822")] if message.raw else []
        subject = f"Doorgestuurd: {message.subject}".strip()
        _forward_mail(to=to, subject=subject, body=body, files=files)
    logger.info("triage: inbound message %s forwarded to %s by %s", message.pk, to, getattr(actor, "username", "system"))
    return message


def inbound_done(*, message_id: int, actor, note: str = "") -> InboundMessage:
    """Take an unprocessable e-mail off the list (spam, empty, handled otherwise)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        message = _unhandled_error(message_id)
        message.handled = True
        message.save(update_fields=["handled"])
        log(message, LOG_MESSAGE_DONE, user=actor, data={"note": note.strip()})
    logger.info("triage: inbound message %s marked done by %s", message.pk, getattr(actor, "username", "system"))
    return message
