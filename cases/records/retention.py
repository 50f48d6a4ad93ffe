"""A closed case's place in the archive: its result type, a hold (ombudsman, objection), and when it may go.

A case gets its record when it closes (``CaseRecord.fix_at_closure``, in the closing step's
transaction). Afterwards the officer may change the result type while the destruction date has not
passed, record that the complainant went on to the Nationale ombudsman (result type 13.1.2, ten
years, and a hold until the ombudsman is done), or put a hold for another reason (an objection or a
court case about the same matter). A case with a hold is never proposed for destruction. Every
change is a line on the case's timeline.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.errors import WorkflowError
from cases.models import (
    ArchivalVerdict,
    CaseEvent,
    CaseRecord,
    CaseState,
    DestructionItemState,
    DestructionListItem,
    EventKind,
    Kind,
    RecordHold,
    ResultCode,
    ResultType,
)
from cases.models.records import HAND_CHOSEN_EVENT
from cases.permissions import HANDLE_CASE, REVIEW_DESTRUCTION, require

logger = logging.getLogger(__name__)

NOT_CLOSED = _("Deze zaak is nog niet afgesloten; het resultaattype volgt bij het afsluiten.")
ALREADY_WIPED = _("De persoonsgegevens van deze zaak zijn al vernietigd of gewist; de archiefgegevens liggen vast.")
DATE_PASSED = _(
    "De vernietigingsdatum van deze zaak (%(date)s) is verstreken; het resultaattype ligt vast. "
    "Moet de zaak langer bewaard blijven? Leg dan een opschorting vast met de reden."
)
WRONG_KIND = _("Het resultaattype '%(name)s' hoort niet bij een %(kind)s.")
REASON_NEEDED = _("Vermeld de reden; die komt op de tijdlijn van de zaak.")
OMBUDSMAN_ONLY_COMPLAINTS = _("Alleen een klacht kan aan de Nationale ombudsman worden voorgelegd.")
OMBUDSMAN_DATE = _("De datum moet tussen het afsluiten van de zaak (%(closed)s) en vandaag liggen.")
OMBUDSMAN_TYPE_MISSING = _(
    "Het resultaattype 'klacht afgehandeld via de Nationale ombudsman' ontbreekt in de bewaartermijnen; vraag de archivaris het toe te voegen."
)
HOLD_NOT_ARCHIVISTS = _("Een opschorting wegens '%(hold)s' heft een kwaliteitsmedewerker op, niet de archivaris.")
NO_HOLD = _("Deze zaak heeft geen opschorting om op te heffen.")

HOLD_NOTE = _("Niet vernietigen: %(hold)s. %(reason)s")


def _locked(case_id: int) -> CaseRecord:
    """The record, locked until commit; a case that is not closed has none yet."""
    record = CaseRecord.objects.select_for_update(of=("self",)).select_related("case", "result_type").filter(case_id=case_id).first()
    if record is None:
        raise WorkflowError(NOT_CLOSED)
    if record.wiped:
        raise WorkflowError(ALREADY_WIPED)
    return record


def _log(record: CaseRecord, actor, name: str, note: str, **data) -> None:
    CaseEvent.objects.create(case_id=record.case_id, actor=actor, kind=EventKind.NOTE, name=name, note=note, data=data)


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": REASON_NEEDED})
    return reason.strip()


def result_types_for(kind: str):
    """The rows of the retention table an officer may choose for a case of ``kind``."""
    return ResultType.objects.filter(kind=kind).order_by("sort_order", "selectielijst_item")


def record_set_result_type(*, case_id: int, result_type_id: int, reason: str, actor) -> CaseRecord:
    """Change a closed case's result type (and with it verdict, term and date), while its date has not passed."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    reason = _reason(reason)
    with transaction.atomic():
        record = _locked(case_id)
        if record.destroy_on is not None and record.destroy_on <= timezone.localdate():
            raise WorkflowError(DATE_PASSED % {"date": f"{record.destroy_on:%d-%m-%Y}"})
        result_type = ResultType.objects.get(pk=result_type_id)
        if result_type.kind != record.case.kind:
            raise ValidationError({"result_type": WRONG_KIND % {"name": result_type.name, "kind": Kind(record.case.kind).label}})
        before = record.result_type.code if record.result_type else ""
        postponed = record.destroy_on
        record.apply(result_type)
        if _archivist_postponed(record) and postponed is not None and record.destroy_on is not None and record.destroy_on < postponed:
            record.destroy_on = postponed  # the archivist kept it off a destruction until then; a new type does not undo that
        record.save()
        _log(record, actor, HAND_CHOSEN_EVENT, f"Resultaattype: {result_type}. {reason}", before=before, after=result_type.code)
    logger.info("case %s: result type %s -> %s by %s", case_id, before, result_type.code, getattr(actor, "username", "system"))
    return record


def _archivist_postponed(record: CaseRecord) -> bool:
    """Whether an archivist kept the case off a destruction list until a later date (``destruction_item_exclude``)."""
    return DestructionListItem.objects.filter(case_id=record.case_id, state=DestructionItemState.EXCLUDED).exists()


def record_ombudsman(*, case_id: int, on: datetime.date, note: str = "", actor) -> CaseRecord:
    """The complainant went on to the Nationale ombudsman: ten years (Selectielijst 13.1.2), and never
    destroyed while the ombudsman handles it (lift the hold when the ombudsman is done)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        record = _locked(case_id)
        if record.case.kind != Kind.COMPLAINT:
            raise WorkflowError(OMBUDSMAN_ONLY_COMPLAINTS)
        if on < record.source_date or on > timezone.localdate():
            raise ValidationError({"on": OMBUDSMAN_DATE % {"closed": f"{record.source_date:%d-%m-%Y}"}})
        result_type = ResultType.objects.filter(code=ResultCode.COMPLAINT_OMBUDSMAN).first()
        if result_type is None:
            raise WorkflowError(OMBUDSMAN_TYPE_MISSING)
        record.apply(result_type)
        record.ombudsman_on = on
        record.hold = RecordHold.OMBUDSMAN
        record.hold_reason = (note or "").strip()
        record.save()
        _log(record, actor, "ombudsman", f"Voorgelegd aan de Nationale ombudsman op {on:%d-%m-%Y}. {record.hold_reason}".strip(), on=on.isoformat())
    return record


def record_hold(*, case_id: int, hold: str, reason: str, actor) -> CaseRecord:
    """Keep a closed case from destruction for now (an objection, a court case, another reason)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    reason = _reason(reason)
    hold = RecordHold(hold)
    with transaction.atomic():
        record = _locked(case_id)
        record.hold, record.hold_reason = hold, reason
        record.save(update_fields=["hold", "hold_reason", "updated_at"])
        _log(record, actor, "hold", str(HOLD_NOTE % {"hold": hold.label, "reason": reason}), hold=hold.value)
    return record


def record_lift_hold(*, case_id: int, reason: str, actor) -> CaseRecord:
    """The procedure that kept the case ended: it follows its destruction date again. An officer or the
    archivist (who may have kept it off a destruction list) lifts it."""
    require(actor, HANDLE_CASE, REVIEW_DESTRUCTION, message=errors.NO_PERMISSION)
    reason = _reason(reason)
    with transaction.atomic():
        record = _locked(case_id)
        if not record.hold:
            raise WorkflowError(NO_HOLD)
        if actor is not None and not actor.has_perm(HANDLE_CASE) and record.hold != RecordHold.OTHER:
            # The archivist lifts what an exclusion set; an ombudsman or objection hold is the officers' to lift.
            raise PermissionDenied(HOLD_NOT_ARCHIVISTS % {"hold": record.get_hold_display()})
        lifted = record.get_hold_display()
        record.hold, record.hold_reason = "", ""
        record.save(update_fields=["hold", "hold_reason", "updated_at"])
        _log(record, actor, "hold_lifted", f"Opschorting opgeheven ({lifted}). {reason}")
    return record


def record_is_destroyable(record: CaseRecord, today: datetime.date) -> str:
    """Why ``record``'s case may not be destroyed on ``today`` (Dutch), or "" when it may."""
    case = record.case
    if record.destroyed_at is not None:
        return str(_("al vernietigd"))
    if case.state != CaseState.CLOSED or case.merged_into_id is not None:
        return str(_("de zaak is niet afgesloten"))
    if record.hold:
        return str(_("niet vernietigen: %(hold)s") % {"hold": record.get_hold_display()})
    if record.verdict != ArchivalVerdict.DESTROY or record.destroy_on is None:
        return str(_("de zaak wordt blijvend bewaard of heeft geen bewaartermijn"))
    if record.destroy_on > today:
        return str(_("de bewaartermijn loopt tot %(date)s") % {"date": f"{record.destroy_on:%d-%m-%Y}"})
    return ""
