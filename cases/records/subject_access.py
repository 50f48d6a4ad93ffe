"""Access (*inzage*, AVG art. 15): everything Handvest holds about one person, as a zip with a JSON
bundle, a readable PDF and the files themselves (attachments, original e-mails, letters).

A person is found by e-mail address, by name, or by the registration number of one of their cases.
Matching is exact, never "looks like": an e-mail address matches regardless of capitals only; a
name matches when it is the same words (capitals and extra spaces aside), so a namesake with
another first name or a similar address is never included. A registration number stands for its
sender: their e-mail address when they gave one, otherwise their exact name and address. The
officer sees the matches first and may leave out one that is someone else (a namesake).
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.errors import WorkflowError
from cases.models import (
    Case,
    CaseEvent,
    CaseRecord,
    CaseState,
    DataSubjectRequest,
    EventKind,
    InboundMessage,
    InboundOutcome,
    OutgoingMessage,
    Registration,
    RequestKind,
    normal_email,
    normal_name,
)
from cases.permissions import HANDLE_DATA_REQUESTS, require
from cases.storage import private_storage
from cases.tagging.similar import SIMILAR_EVENT
from cms.models import MunicipalitySettings

NO_CRITERIA = _("Vul een e-mailadres, een naam of een registratienummer in.")
NOTHING_FOUND = _("Er is niets gevonden voor deze gegevens. Controleer de spelling, of zoek op een registratienummer.")
NOT_A_MATCH = _("U kunt alleen zaken kiezen die bij deze zoekopdracht gevonden zijn.")
TEMPLATE = "cases/records/subject_access.html"

# Sent for each case in an export, so a capability that keeps personal data of its own about a case (the
# conversation's questions and replies, say) adds it: each receiver returns a list of sections,
# ``{"title": "...", "items": ["one line of text", ...]}`` in Dutch, shown in the PDF and kept in the JSON.
case_access_data = Signal()  # kwargs: case


@dataclass(frozen=True)
class PersonQuery:
    """What the officer searches on; any of the three, at least one."""

    email: str = ""
    name: str = ""
    number: str = ""

    def __post_init__(self) -> None:
        if not (self.email.strip() or normal_name(self.name) or self.number.strip()):
            raise ValidationError(NO_CRITERIA)

    @property
    def matched_on(self) -> str:
        """Which kinds of criteria were used (never their values: the request log keeps no personal data)."""
        used = [label for label, value in (("e-mailadres", self.email), ("naam", self.name), ("registratienummer", self.number)) if value.strip()]
        return ", ".join(used)


@dataclass
class PersonMatch:
    query: PersonQuery
    registrations: list[Registration] = field(default_factory=list)
    loose_messages: list[InboundMessage] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [registration.number for registration in self.registrations]


def _identifiers(query: PersonQuery) -> tuple[set[str], set[tuple[str, str]], set[str], list[Registration]]:
    """E-mail addresses, (name, address) pairs, bare names and the registration found by number."""
    emails = {normal_email(query.email)} - {""}
    pairs: set[tuple[str, str]] = set()
    names = {normal_name(query.name)} - {""}
    by_number = list(Registration.objects.filter(number__iexact=query.number.strip())) if query.number.strip() else []
    for registration in by_number:
        if registration.sender_email:
            emails.add(normal_email(registration.sender_email))
        elif registration.sender_name:
            pairs.add((normal_name(registration.sender_name), normal_name(registration.sender_address)))
    return emails, pairs, names, by_number


def _by_name(names: set[str], pairs: set[tuple[str, str]]) -> list[Registration]:
    wanted = names | {name for name, _address in pairs}
    if not wanted:
        return []
    # A coarse filter in the database (a word of the name), the exact comparison here.
    condition = Q()
    for name in wanted:
        condition |= Q(sender_name__icontains=max(name.split(), key=len))
    found = []
    for registration in Registration.objects.filter(condition):
        name = normal_name(registration.sender_name)
        if name in names or (name, normal_name(registration.sender_address)) in pairs:
            found.append(registration)
    return found


# A reply on a case that did not come from its sender (a guessed number, a merged duplicate's citizen).
SOMEONE_ELSES_REPLY = Q(outcome=InboundOutcome.THREAD, from_sender=False)


def person_find(query: PersonQuery) -> PersonMatch:
    """Every registration of the person (cases and items without a case), and their e-mails that belong to none."""
    emails, pairs, names, by_number = _identifiers(query)
    found = {registration.pk: registration for registration in by_number}
    email_condition = Q(pk__in=[])
    for email in emails:
        email_condition |= Q(sender_email__iexact=email)
    found.update({registration.pk: registration for registration in Registration.objects.filter(email_condition)})
    found.update({registration.pk: registration for registration in _by_name(names, pairs)})
    registrations = sorted(found.values(), key=lambda registration: (registration.received_on, registration.number))
    loose_condition = Q(pk__in=[])
    for email in emails:
        loose_condition |= Q(from_address__iexact=email)
    # Their mail in the bundle under none of their registrations (a reply from a second address is no
    # ``from_sender`` of their case, so it comes here rather than be left out).
    theirs = Q(registration_id__in=found) | Q(case__registration_id__in=found)
    loose = InboundMessage.objects.filter(loose_condition).exclude(theirs & ~SOMEONE_ELSES_REPLY)
    return PersonMatch(query=query, registrations=registrations, loose_messages=list(loose.order_by("received_at")))


def match_select(match: PersonMatch, registration_ids: list[int] | None) -> PersonMatch:
    """The officer's choice among the matches (a namesake left out); nothing outside the matches."""
    if registration_ids is None:
        return match
    known = {registration.pk for registration in match.registrations}
    if not set(registration_ids) <= known:
        raise ValidationError(NOT_A_MATCH)
    chosen = [registration for registration in match.registrations if registration.pk in set(registration_ids)]
    return PersonMatch(query=match.query, registrations=chosen, loose_messages=match.loose_messages)


# --- the bundle -------------------------------------------------------------------------------------
def _file(files: dict[str, str], folder: str, name: str, stored: str) -> str:
    """Register a stored file for the zip under ``folder/name``; returns that path."""
    path = f"{folder}/{name}"
    files[path] = stored
    return path


def _message_data(message: InboundMessage, folder: str, files: dict[str, str]) -> dict:
    return {
        "received_at": message.received_at.isoformat(),
        "from": {"name": message.from_name, "address": message.from_address},
        "to": message.to_address,
        "subject": message.subject,
        "text": message.text,
        "original": _file(files, folder, f"bericht-{message.pk}.eml", message.raw.name) if message.raw else None,
        "attachments": [_file(files, folder, f"{item.pk}-{item.filename}", item.file.name) for item in message.attachments.all() if item.file],
    }


def _case_data(registration: Registration, folder: str, files: dict[str, str]) -> dict:
    case = registration.case
    record = CaseRecord.objects.filter(case=case).select_related("result_type").first()
    letters = OutgoingMessage.objects.filter(case=case).order_by("created_at", "pk")
    # Not the timeline lines that quote someone else's mail on this case (AVG art. 15 lid 4).
    others = InboundMessage.objects.filter(case=case).exclude(_own_messages(registration)).values_list("pk", flat=True)
    events = (
        CaseEvent.objects.filter(case=case)
        .exclude(data__inbound_message_id__in=list(others))
        .exclude(kind=EventKind.TAG, name=SIMILAR_EVENT)  # a hint about other people's cases, not the citizen's data
        .select_related("actor")
        .order_by("at", "pk")
    )
    return {
        "state": case.get_state_display(),
        "outcome": case.get_outcome_display() if case.outcome else "",
        "decline_ground": case.get_decline_ground_display() if case.decline_ground else "",
        "forwarded_to": case.forwarded_to,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "extension_reason": case.extension_reason,
        "hearing_on": case.hearing_on.isoformat() if case.hearing_on else None,
        # What the complainant told us at the hearing is theirs; whose conduct it was about is not (a colleague's name).
        "hearing_report": case.hearing_report,
        "norms": sorted(case.norm_tags.values_list("norm__code", flat=True)),
        "timeline": [_event_data(event) for event in events],
        "letters": [
            {
                "kind": letter.get_kind_display(),
                "channel": letter.get_channel_display(),
                "status": letter.get_status_display(),
                "to": {"name": letter.to_name, "email": letter.to_email, "address": letter.to_address},
                "subject": letter.subject,
                "body": letter.body_text,
                "sent_or_posted": (letter.sent_at or letter.posted_at).isoformat() if (letter.sent_at or letter.posted_at) else None,
                "pdf": _file(files, folder, f"brief-{letter.pk}.pdf", letter.pdf.name) if letter.pdf else None,
            }
            for letter in letters
        ],
        "retention": _retention_data(record),
        "more": [section for _receiver, sections in case_access_data.send(sender=Case, case=case) for section in (sections or [])],
    }


def _state(value: str) -> str:
    return str(CaseState(value).label) if value in CaseState.values else value


def _event_data(event: CaseEvent) -> dict:
    change = f"{_state(event.from_state)} → {_state(event.to_state)}" if event.from_state and event.to_state else ""
    return {"at": event.at.isoformat(), "kind": event.get_kind_display(), "step": event.name, "change": change, "note": event.note, "internal": event.internal}


def _retention_data(record: CaseRecord | None) -> dict | None:
    if record is None:
        return None
    return {
        "result_type": str(record.result_type) if record.result_type else "",
        "verdict": record.get_verdict_display(),
        "term_years": record.term_years,
        "destroy_on": record.destroy_on.isoformat() if record.destroy_on else None,
    }


def _own_messages(registration: Registration) -> Q:
    """The registration's own e-mail, and the replies on its case that came from its sender (``from_sender``):
    a message someone else sent about the case (a guessed number, a merged duplicate's citizen) is theirs."""
    return (Q(registration=registration) | Q(case__registration=registration)) & ~SOMEONE_ELSES_REPLY


def _registration_data(registration: Registration, files: dict[str, str]) -> dict:
    folder = f"zaken/{registration.number}"
    messages = InboundMessage.objects.filter(_own_messages(registration)).distinct().order_by("received_at", "pk")
    data = {
        "number": registration.number,
        "kind": registration.get_kind_display(),
        "channel": registration.get_channel_display(),
        "received_on": registration.received_on.isoformat(),
        "subject": registration.subject,
        "text": registration.text,
        "sender": {
            "name": registration.sender_name,
            "email": registration.sender_email,
            "phone": registration.sender_phone,
            "address": registration.sender_address,
            "reply_by": registration.get_reply_channel_display(),
        },
        # Not the files someone else mailed about this case (their reply's text stays out too: ``_own_messages``).
        "attachments": [
            _file(files, folder, f"{item.pk}-{item.filename}", item.file.name)
            for item in registration.attachments.exclude(inbound_message__in=InboundMessage.objects.filter(SOMEONE_ELSES_REPLY))
            if item.file
        ],
        "messages": [_message_data(message, folder, files) for message in messages],
        "case": None,
    }
    if hasattr(registration, "case"):
        data["case"] = _case_data(registration, folder, files)
    return data


def subject_access_data(match: PersonMatch) -> tuple[dict, dict[str, str]]:
    """The bundle as plain data, and the stored files it refers to (zip path → storage name)."""
    files: dict[str, str] = {}
    data = {
        "title": "Inzage persoonsgegevens",
        "controller": MunicipalitySettings.load().name,
        "generated_at": timezone.now().isoformat(),
        "matched_on": match.query.matched_on,
        "registrations": [_registration_data(registration, files) for registration in match.registrations],
        "messages_without_case": [_message_data(message, "berichten", files) for message in match.loose_messages],
    }
    return data, files


DATE_KEYS = {"received_on", "destroy_on", "hearing_on"}
MOMENT_KEYS = {"received_at", "at", "closed_at", "sent_or_posted", "generated_at"}


def _readable(value, key: str = ""):
    """A copy of the bundle with its ISO dates and moments written the Dutch way, for the PDF."""
    if isinstance(value, dict):
        return {name: _readable(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_readable(item) for item in value]
    if isinstance(value, str) and value and key in DATE_KEYS:
        return f"{datetime.date.fromisoformat(value):%d-%m-%Y}"
    if isinstance(value, str) and value and key in MOMENT_KEYS:
        return f"{timezone.localtime(datetime.datetime.fromisoformat(value)):%d-%m-%Y %H:%M}"
    return value


def subject_access_pdf(data: dict) -> bytes:
    """The bundle as a tagged Dutch PDF (PDF/UA-1) a citizen can read."""
    # Imported here: WeasyPrint is heavy (cairo, pango, fonts) and only PDFs need it.
    from weasyprint import HTML

    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(TEMPLATE, {"data": _readable(data), "municipality": MunicipalitySettings.load()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/ua-1")


def subject_access_zip(data: dict, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inzage.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("inzage.pdf", subject_access_pdf(data))
        for path, stored in sorted(files.items()):
            if private_storage.exists(stored):
                with private_storage.open(stored, "rb") as handle:
                    archive.writestr(path, handle.read())
    return buffer.getvalue()


def subject_access_export(*, query: PersonQuery, actor, registration_ids: list[int] | None = None, reason: str = "") -> tuple[str, bytes, PersonMatch]:
    """Everything held about the person as a zip (``inzage.json``, ``inzage.pdf``, the files); logged."""
    require(actor, HANDLE_DATA_REQUESTS, message=errors.NO_PERMISSION)
    match = match_select(person_find(query), registration_ids)
    if not match.registrations and not match.loose_messages:
        raise WorkflowError(NOTHING_FOUND)
    data, files = subject_access_data(match)
    archive = subject_access_zip(data, files)
    DataSubjectRequest.objects.create(
        kind=RequestKind.ACCESS, matched_on=query.matched_on, numbers=", ".join(match.numbers), reason=(reason or "").strip(), handled_by=actor
    )
    return f"inzage-{timezone.localdate():%Y-%m-%d}.zip", archive, match
