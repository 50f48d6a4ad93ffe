"""Sorting the inbox: what becomes a case, what goes elsewhere, who handles it, what is a duplicate.

Other mail (*overige post*: questions, forms, invoices, thanks) is registered but is no case; it
waits in the triage list until an officer turns it into a case, forwards it or marks it done.
E-mails the intake could not process (``InboundMessage`` with outcome ``error``) wait there too.
A duplicate case is merged into the case that handles the matter; it keeps its number and its
timeline, and points to the other case.

Every decision is logged (Python logging and Wagtail's audit log, or the case timeline).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from cases import errors
from cases.models import (
    HANDLE_PERMISSION,
    Attachment,
    Case,
    CaseEvent,
    EventKind,
    InboundMessage,
    IntakeChannel,
    Kind,
    Registration,
    TriageState,
)
from cases.services.registration import Sender, case_open, register_item
from cases.services.workflow import CaseConflict, WorkflowError

logger = logging.getLogger(__name__)

TRIAGE_ALREADY_DECIDED = _("Over dit stuk is al beslist (%(state)s). Vernieuw de lijst.")
TRIAGE_NOT_OTHER = _("Dit stuk is al een %(kind)s en staat niet in de triagelijst.")
TRIAGE_CASE_KIND = _("Kies klacht of verbetersuggestie.")
TRIAGE_KIND = _("Kies klacht, verbetersuggestie of overig.")
FORWARD_ADDRESS = _("Vul een geldig e-mailadres in om naar door te sturen.")
MESSAGE_ALREADY_HANDLED = _("Dit bericht is al afgehandeld.")
MESSAGE_NEEDS_TEXT = _("Het bericht heeft geen leesbare tekst. Neem de tekst over uit het originele bericht.")
MERGE_SELF = _("Een zaak kan niet met zichzelf worden samengevoegd.")
MERGE_ALREADY = _("Deze zaak is al samengevoegd met %(number)s.")
MERGE_TARGET_MERGED = _("Zaak %(number)s is zelf al samengevoegd met %(into)s; kies die zaak.")
MERGE_UNKNOWN = _("Er is geen zaak met nummer %(number)s.")
MERGE_HAS_DUPLICATES = _("Er zijn al zaken met deze zaak samengevoegd; voeg eerst die samen met de andere zaak.")
ASSIGN_NOT_OFFICER = _("%(name)s is geen kwaliteitsmedewerker en kan deze zaak niet behandelen.")
CASE_IS_MERGED = _("Deze zaak is samengevoegd met %(number)s; behandel die zaak.")

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


def _require_officer(actor) -> None:
    if actor is not None and not actor.has_perm(HANDLE_PERMISSION):
        raise PermissionDenied(errors.NO_PERMISSION)


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
    _require_officer(actor)
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
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    for name, field, content_type in files:
        try:
            with field.open("rb") as handle:
                message.attach(name, handle.read(), content_type)
        except (OSError, ValueError) as exc:
            logger.warning("forward to %s: attachment %s missing (%s); sent without it", to, name, exc)
    message.send()


def triage_forward(*, registration_id: int, to: str, actor, note: str = "") -> Registration:
    """Forward other mail by e-mail (with its attachments) to whoever it is for, and take it off the list."""
    to = _clean_address(to)
    _require_officer(actor)
    with transaction.atomic():
        registration = _pending_other(registration_id)
        registration.triage_state = TriageState.FORWARDED
        registration.save(update_fields=["triage_state"])
        log(registration, LOG_FORWARDED, user=actor, data={"to": to, "note": note.strip()})
        body = render_to_string("cases/admin/workspace/forward_email.txt", {"registration": registration, "note": note.strip()})
        files = [(a.filename, a.file, a.content_type) for a in registration.attachments.all()]
        subject = f"Doorgestuurd: {registration.number} {registration.subject}".strip()
        transaction.on_commit(lambda: _forward_mail(to=to, subject=subject, body=body, files=files))
    logger.info("triage: %s forwarded to %s by %s", registration.number, to, getattr(actor, "username", "system"))
    return registration


def triage_done(*, registration_id: int, actor, note: str = "") -> Registration:
    """Mark other mail as handled (answered directly, filed, no action needed)."""
    _require_officer(actor)
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
    _require_officer(actor)
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
    _require_officer(actor)
    with transaction.atomic():
        message = _unhandled_error(message_id)
        message.handled = True
        message.save(update_fields=["handled"])
        log(message, LOG_MESSAGE_FORWARDED, user=actor, data={"to": to, "note": note.strip()})
        body = render_to_string("cases/admin/workspace/forward_inbound_email.txt", {"message": message, "note": note.strip()})
        files = [(f"origineel-{message.pk}.eml", message.raw, "message/rfc822")] if message.raw else []
        subject = f"Doorgestuurd: {message.subject}".strip()
        transaction.on_commit(lambda: _forward_mail(to=to, subject=subject, body=body, files=files))
    logger.info("triage: inbound message %s forwarded to %s by %s", message.pk, to, getattr(actor, "username", "system"))
    return message


def inbound_done(*, message_id: int, actor, note: str = "") -> InboundMessage:
    """Take an unprocessable e-mail off the list (spam, empty, handled otherwise)."""
    _require_officer(actor)
    with transaction.atomic():
        message = _unhandled_error(message_id)
        message.handled = True
        message.save(update_fields=["handled"])
        log(message, LOG_MESSAGE_DONE, user=actor, data={"note": note.strip()})
    logger.info("triage: inbound message %s marked done by %s", message.pk, getattr(actor, "username", "system"))
    return message


def _locked_open_case(case_id: int, expected_state: str | None) -> Case:
    case = Case.objects.select_for_update(of=("self",)).select_related("registration").get(pk=case_id)
    if expected_state is not None and case.state != expected_state:
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
    if case.merged_into_id is not None:
        number = Registration.objects.filter(case__pk=case.merged_into_id).values_list("number", flat=True).first()
        raise WorkflowError(CASE_IS_MERGED % {"number": number})
    return case


def case_assign(*, case_id: int, officer_id: int | None, actor, expected_state: str | None = None) -> Case:
    """Give the case to an officer (or to nobody); logged on the timeline."""
    _require_officer(actor)
    officer = None
    if officer_id is not None:
        officer = get_user_model().objects.filter(pk=officer_id, is_active=True).first()
        if officer is None or not officer.has_perm(HANDLE_PERMISSION):
            name = (officer.get_full_name() or officer.get_username()) if officer else str(officer_id)
            raise ValidationError({"officer": ASSIGN_NOT_OFFICER % {"name": name}})
    with transaction.atomic():
        case = _locked_open_case(case_id, expected_state)
        if case.assigned_to_id == getattr(officer, "pk", None):
            return case
        case.assigned_to = officer
        case.save(update_fields=["assigned_to"])
        label = (officer.get_full_name() or officer.get_username()) if officer else "niemand"
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.ASSIGNED, name="assign", note=f"Toegewezen aan {label}", data={"officer": officer_id})
    logger.info("case %s assigned to %s by %s", case, getattr(officer, "username", None), getattr(actor, "username", "system"))
    return case


def case_merge(*, case_id: int, into_number: str, actor, expected_state: str | None = None, note: str = "") -> Case:
    """Merge a duplicate case into the case that handles the matter.

    The duplicate keeps its number, state and timeline and points to the other case; it leaves
    the inbox, and the workspace refuses further steps on it. Both timelines record the merge.
    """
    _require_officer(actor)
    into_number = (into_number or "").strip().upper()
    target_id = Case.objects.filter(registration__number=into_number).values_list("pk", flat=True).first()
    if target_id is None:
        raise ValidationError({"into": MERGE_UNKNOWN % {"number": into_number or "?"}})
    if target_id == case_id:
        raise ValidationError({"into": MERGE_SELF})
    with transaction.atomic():
        # Lock both rows in id order, so two officers merging crosswise cannot deadlock.
        locked = {
            c.pk: c for c in Case.objects.select_for_update(of=("self",)).select_related("registration").filter(pk__in=[case_id, target_id]).order_by("pk")
        }
        duplicate, target = locked[case_id], locked[target_id]
        if expected_state is not None and duplicate.state != expected_state:
            raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": duplicate.get_state_display()})
        if duplicate.merged_into_id is not None:
            raise WorkflowError(MERGE_ALREADY % {"number": Case.objects.get(pk=duplicate.merged_into_id).registration.number})
        if target.merged_into_id is not None:
            into = Case.objects.select_related("registration").get(pk=target.merged_into_id)
            raise ValidationError({"into": MERGE_TARGET_MERGED % {"number": target.registration.number, "into": into.registration.number}})
        if Case.objects.filter(merged_into=duplicate).exists():
            raise WorkflowError(MERGE_HAS_DUPLICATES)
        duplicate.merged_into = target
        duplicate.save(update_fields=["merged_into"])
        CaseEvent.objects.create(
            case=duplicate,
            actor=actor,
            kind=EventKind.NOTE,
            name="merged_into",
            note=f"Samengevoegd met {target.registration.number}. {note.strip()}".strip(),
            data={"into": target.pk},
        )
        CaseEvent.objects.create(
            case=target,
            actor=actor,
            kind=EventKind.NOTE,
            name="merged_from",
            note=f"Zaak {duplicate.registration.number} is hiermee samengevoegd. {note.strip()}".strip(),
            data={"from": duplicate.pk},
        )
    logger.info("case %s merged into %s by %s", duplicate, target, getattr(actor, "username", "system"))
    return duplicate
