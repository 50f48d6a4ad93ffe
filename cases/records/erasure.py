"""Rectification (AVG art. 16) and erasure (AVG art. 17) of a citizen's personal data, with the reason recorded.

**Rectification** corrects the name, e-mail address, phone number or postal address on the chosen
registrations, open or closed (letters still to come use the corrected data). The timeline records
which fields changed and why, not the old values.

**Erasure** goes as far as the retention duty allows (AVG art. 17 lid 3 sub b and d: the Archiefwet
and the Selectielijst oblige the municipality to keep a closed case until its destruction date):

| the item | erased? |
| --- | --- |
| a case still being handled, or with a hold (ombudsman, objection) | no: "still in handling" / "kept because of ..." |
| a closed case whose retention term still runs | no: the date from which it goes is named |
| a closed case to keep for ever (*blijvend bewaren*) | no |
| a closed case whose term has passed | yes, at once (the next destruction list still accounts for it) |
| an item without a case (other mail) once triaged, or a stray e-mail once handled | yes |

Erasure anonymises: the case and registration rows stay without personal data (``cases.records.wiping``),
so the aggregates and the annual report keep their counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.correspondence.links import private_link_renew
from cases.correspondence.post import letters_readdress
from cases.errors import WorkflowError
from cases.models import (
    ArchivalVerdict,
    Case,
    CaseEvent,
    CaseRecord,
    CaseState,
    DataSubjectRequest,
    EventKind,
    InboundMessage,
    Registration,
    RequestKind,
    TriageState,
    new_public_token,
)
from cases.permissions import HANDLE_DATA_REQUESTS, require
from cases.records.subject_access import PersonMatch
from cases.records.wiping import case_wipe, inbound_wipe, registration_wipe
from cases.workflow.handling import follow_merges

logger = logging.getLogger(__name__)

REASON_NEEDED = _("Vermeld de reden van het verzoek; die wordt vastgelegd.")
NOTHING_TO_CORRECT = _("Vul in wat verbeterd moet worden: naam, e-mailadres, telefoon of postadres.")
REFUSED_OPEN = _("de zaak is nog in behandeling; wissen kan pas na afhandeling (verbeteren kan wel)")
REFUSED_HOLD = _("de zaak moet bewaard blijven: %(hold)s")
REFUSED_TERM = _("de Archiefwet verplicht de gemeente de zaak te bewaren tot %(date)s (Selectielijst %(item)s); daarna wordt hij vernietigd")
REFUSED_KEEP = _("de zaak wordt volgens de Selectielijst blijvend bewaard")
REFUSED_NO_RECORD = _("de zaak heeft geen bewaartermijn; vraag de archivaris om een resultaattype")
REFUSED_TRIAGE = _("het bericht wacht nog op beoordeling; wissen kan nadat het is afgehandeld")
ALREADY_ERASED = _("al gewist of vernietigd")
MESSAGES_ERASED = _("%(count)s e-mail(s) zonder zaak")
REFUSED_MERGED = _("samengevoegd met %(number)s en bewaard met die zaak: %(reason)s")
LINK_AFTER_RECTIFIED = _("e-mailadres verbeterd (AVG art. 16); de oude link ging naar het oude adres")
RECTIFIED_NOTE = _("Persoonsgegevens verbeterd op verzoek van de indiener (AVG art. 16): %(fields)s. Reden: %(reason)s")
ERASED_NOTE = _("Persoonsgegevens gewist op verzoek van de indiener (AVG art. 17). Reden: %(reason)s")

FIELD_LABELS = {"sender_name": _("naam"), "sender_email": _("e-mailadres"), "sender_phone": _("telefoon"), "sender_address": _("postadres")}


@dataclass
class RequestOutcome:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    messages: int = 0

    @property
    def done_items(self) -> list[str]:
        """What was done, also the e-mails without a case: the officer is told it, and the request log keeps it."""
        return [*self.done, *([str(MESSAGES_ERASED % {"count": self.messages})] if self.messages else [])]


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_NEEDED})
    return reason.strip()


def _log(kind: str, match: PersonMatch, outcome: RequestOutcome, reason: str, actor) -> None:
    refused = "; ".join(f"{number}: {why}" for number, why in outcome.refused.items())
    DataSubjectRequest.objects.create(
        kind=kind, matched_on=match.query.matched_on, numbers=", ".join(outcome.done_items), refused=refused, reason=reason, handled_by=actor
    )


def registrations_rectify(*, match: PersonMatch, corrections: dict[str, str], reason: str, actor, remove: tuple[str, ...] = ()) -> RequestOutcome:
    """Correct the given fields (``sender_name``, ``sender_email``, ``sender_phone``, ``sender_address``) on the matched
    registrations; ``remove`` empties fields that are wrong and have no right value (a stranger's e-mail address)."""
    require(actor, HANDLE_DATA_REQUESTS, message=errors.NO_PERMISSION)
    reason = _reason(reason)
    changes = {key: value.strip() for key, value in corrections.items() if key in FIELD_LABELS and value is not None and value.strip()}
    changes.update({key: "" for key in remove if key in FIELD_LABELS and key not in changes})
    if not changes:
        raise ValidationError(NOTHING_TO_CORRECT)
    if changes.get("sender_email"):
        validate_email(changes["sender_email"])
    outcome = RequestOutcome()
    labels = ", ".join(str(FIELD_LABELS[key]) for key in changes)
    ids = [registration.pk for registration in match.registrations]
    with transaction.atomic():
        # A destroyed or erased case stays without personal data: nothing is written back into it.
        wiped = set(
            CaseRecord.objects.filter(case__registration_id__in=ids).wiped().values_list("case__registration_id", flat=True)
        )
        for registration in Registration.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("case").order_by("pk"):
            if registration.pk in wiped:
                outcome.refused[registration.number] = str(ALREADY_ERASED)
                continue
            new_address = "sender_email" in changes and changes["sender_email"].lower() != registration.sender_email.strip().lower()
            for key, value in changes.items():
                setattr(registration, key, value)
            if "sender_email" in changes:
                registration.email_undeliverable = False
            registration.save(update_fields=[*changes, "email_undeliverable"])
            if hasattr(registration, "case"):
                note = RECTIFIED_NOTE % {"fields": labels, "reason": reason}
                CaseEvent.objects.create(
                    case=registration.case, actor=actor, kind=EventKind.NOTE, name="rectified", note=str(note), data={"fields": list(changes)}
                )
                if new_address:
                    # The private link went to the old, wrong address: a new one goes to the corrected one
                    # (a merged case's link dies too; its citizen follows the case it was merged into).
                    _link_renew(registration.case.pk, actor)
                if {"sender_name", "sender_address"} & changes.keys():
                    letters_readdress(case=registration.case)  # a letter waiting for the mailroom goes to the corrected address
            outcome.done.append(registration.number)
        _log(RequestKind.RECTIFICATION, match, outcome, reason, actor)
    return outcome


def _link_renew(case_id: int, actor) -> None:
    try:
        with transaction.atomic():
            private_link_renew(case_id=case_id, reason=str(LINK_AFTER_RECTIFIED), actor=actor)
    except WorkflowError:
        # No address to send a new link to (the wrong e-mail address removed, and no postal one): the old link dies all the same.
        Case.objects.filter(pk=case_id).update(public_token=new_public_token())


def erasure_refusal(registration: Registration, record: CaseRecord | None, today) -> str:
    """Why this registration's personal data may not be erased now (Dutch), or "" when it may."""
    case = getattr(registration, "case", None)
    if case is None:
        return str(REFUSED_TRIAGE) if registration.triage_state == TriageState.PENDING else ""
    if record is not None and record.wiped:
        return str(ALREADY_ERASED)
    if case.state != CaseState.CLOSED or case.merged_into_id is not None:
        return str(REFUSED_OPEN)
    if record is None or not record.verdict:
        return str(REFUSED_NO_RECORD)
    if record.hold:
        return str(REFUSED_HOLD % {"hold": record.get_hold_display()})
    if record.verdict == ArchivalVerdict.KEEP:
        return str(REFUSED_KEEP)
    if record.destroy_on is None or record.destroy_on > today:
        item = record.result_type.selectielijst_item if record.result_type else "?"
        return str(REFUSED_TERM % {"date": f"{record.destroy_on:%d-%m-%Y}" if record.destroy_on else "?", "item": item})
    return ""


def _erase_one(registration_id: int, reason: str, actor, today) -> str:
    """Erase one registration (and its case) in its own transaction; returns the refusal, or ""."""
    with transaction.atomic():
        registration = Registration.objects.select_for_update(of=("self",)).select_related("case").get(pk=registration_id)
        case = getattr(registration, "case", None)
        record = CaseRecord.objects.select_for_update().filter(case=case).first() if case is not None else None
        if case is not None and case.merged_into_id is not None:
            return _merged_refusal(case, today)
        refusal = erasure_refusal(registration, record, today)
        if refusal:
            return refusal
        if case is None:
            registration_wipe(registration.pk)
            return ""
        case_wipe(case)
        record.erased_at = timezone.now()
        record.save(update_fields=["erased_at", "updated_at"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="erased", note=str(ERASED_NOTE % {"reason": reason}))
    return ""


def _merged_refusal(case, today) -> str:
    """A case merged into another goes with that one (``case_wipe`` of it wipes its merged cases): erased when it went
    (the same request may have erased it just now), else kept for the reason that case is kept."""
    main = follow_merges(case)
    record = CaseRecord.objects.filter(case=main).first()
    if record is not None and record.wiped:
        return ""
    reason = erasure_refusal(main.registration, record, today) or str(REFUSED_OPEN)
    return str(REFUSED_MERGED % {"number": main.registration.number, "reason": reason})


def _kept_with_their_case(messages, outcome: RequestOutcome, today) -> list[int]:
    """The person's e-mails that joined someone else's case (a witness, a second address) go when that case
    may go: while it is handled or kept, the Archiefwet keeps its file whole (AVG art. 17 lid 3 sub b)."""
    kept = []
    for message in messages.select_related("case__registration"):
        registration = message.case.registration
        refusal = erasure_refusal(registration, CaseRecord.objects.filter(case_id=message.case_id).first(), today)
        if refusal and refusal != str(ALREADY_ERASED):
            kept.append(message.pk)
            outcome.refused[str(_("e-mail bij %(number)s") % {"number": registration.number})] = refusal
    return kept


def registrations_erase(*, match: PersonMatch, reason: str, actor) -> RequestOutcome:
    """Erase what may be erased of the matched registrations and stray e-mails; say per item why not otherwise."""
    require(actor, HANDLE_DATA_REQUESTS, message=errors.NO_PERMISSION)
    reason = _reason(reason)
    today = timezone.localdate()
    outcome = RequestOutcome()
    # The cases others were merged into first: a merged case goes with the case it joined.
    for registration in sorted(match.registrations, key=lambda item: getattr(getattr(item, "case", None), "merged_into_id", None) is not None):
        refusal = _erase_one(registration.pk, reason, actor, today)
        if refusal:
            outcome.refused[registration.number] = refusal
        else:
            outcome.done.append(registration.number)
    with transaction.atomic():
        loose = InboundMessage.objects.filter(pk__in=[message.pk for message in match.loose_messages])
        waiting = loose.filter(handled=False, outcome__in=["", "error", "quarantine"]).count()
        if waiting:
            outcome.refused[str(_("e-mails zonder zaak"))] = str(REFUSED_TRIAGE)
        kept = _kept_with_their_case(loose.exclude(case=None), outcome, today)
        erasable = loose.exclude(handled=False, outcome__in=["", "error", "quarantine"]).exclude(pk__in=kept)
        outcome.messages = inbound_wipe(erasable).messages
        _log(RequestKind.ERASURE, match, outcome, reason, actor)
    logger.info("erasure request by %s: %s erased, %s refused", getattr(actor, "username", "system"), len(outcome.done), len(outcome.refused))
    return outcome
