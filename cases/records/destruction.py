"""Destruction lists (*vernietigingslijsten*): proposed, reviewed by the archivist, executed case by case.

1. **Propose.** ``destruction_candidates`` are the closed cases whose destruction date has passed,
   with verdict *vernietigen* and no hold (ombudsman, objection); an open case, a merged duplicate, a
   case to keep for ever and a case already destroyed are never among them. ``destruction_list_create``
   puts them on a list (not the ones on another open list).
2. **Review.** The archivist sees per case only its metadata (number, kind, result type, Selectielijst
   category, term, dates), excludes a case with a reason (and, if wanted, a later date), and approves.
3. **Execute.** After approval a Celery task (``cases.destroy_list``) destroys the personal data of each
   case in its own transaction, checking again that it may go; a case that may not is skipped with
   the reason. A second run skips what is done, so an interrupted run is simply run again. When
   every case is done, the *verklaring van vernietiging* is made and kept with the list.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import dispatch
from cases.errors import WorkflowError
from cases.models import (
    ArchivalVerdict,
    Case,
    CaseEvent,
    CaseRecord,
    CaseState,
    DestructionItemState,
    DestructionList,
    DestructionListItem,
    DestructionListStatus,
    EventKind,
    RecordHold,
)
from cases.permissions import REVIEW_DESTRUCTION, require
from cases.records.retention import record_is_destroyable
from cases.records.statement import statement_store
from cases.records.wiping import case_wipe

logger = logging.getLogger(__name__)

NOT_ARCHIVIST = _("Alleen de archivaris beoordeelt vernietigingslijsten.")
NOTHING_TO_DESTROY = _("Er zijn op %(date)s geen zaken waarvan de bewaartermijn verstreken is (of ze staan al op een open lijst).")
AS_OF_IN_FUTURE = _("De peildatum kan niet in de toekomst liggen: vernietigen kan pas als de termijn echt verstreken is.")
LIST_LOCKED = _("Deze lijst is %(status)s; alleen een lijst die ter beoordeling ligt kan nog veranderen.")
EXCLUSION_NEEDS_REASON = _("Vermeld waarom deze zaak niet vernietigd wordt; dat komt in de verklaring van vernietiging.")
POSTPONE_NOT_LATER = _("De nieuwe datum moet na vandaag liggen.")
NOT_EXCLUDED = _("Deze zaak is niet uitgezonderd.")
# An exclusion without a later date holds the case (``RecordHold.OTHER``) until an officer lifts it: else the
# next list proposed it again with no reason shown, and an erasure request wiped it in the meantime.
EXCLUDED_HOLD = "Uitgezonderd van vernietigingslijst %(list)s: %(reason)s"
ON_ANOTHER_LIST = _("Deze zaak staat inmiddels op vernietigingslijst %(list)s; beoordeel haar daar.")
DESTROYED_NOTE = _("Persoonsgegevens vernietigd volgens vernietigingslijst %(list)s (Archiefwet; Selectielijst %(item)s, %(term)s jaar).")


@dataclass
class ExecutionResult:
    destroyed: int = 0
    skipped: int = 0
    done_before: int = 0
    finished: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def destruction_candidates(*, as_of: datetime.date):
    """Records of the cases that may be destroyed on ``as_of``, earliest date first."""
    return (
        CaseRecord.objects.filter(
            case__state=CaseState.CLOSED,
            case__merged_into__isnull=True,
            verdict=ArchivalVerdict.DESTROY,
            destroy_on__lte=as_of,
            hold="",
            destroyed_at__isnull=True,
        )
        .select_related("case__registration", "result_type")
        .order_by("destroy_on", "case__registration__number")
    )


def destruction_summary(*, as_of: datetime.date) -> dict[str, int]:
    """Why the other cases are not proposed on ``as_of``: still open, held, kept for ever, term still running."""
    closed = CaseRecord.objects.filter(case__state=CaseState.CLOSED, destroyed_at__isnull=True)
    return {
        "open": Case.objects.exclude(state=CaseState.CLOSED).count(),
        "held": closed.exclude(hold="").count(),
        "keep": closed.filter(verdict=ArchivalVerdict.KEEP).count(),
        "no_result_type": closed.filter(result_type__isnull=True).count(),
        "term_running": closed.filter(hold="", verdict=ArchivalVerdict.DESTROY, destroy_on__gt=as_of).count(),
        "destroyed": CaseRecord.objects.filter(destroyed_at__isnull=False).count(),
    }


def cases_on_open_lists() -> dict[int, str]:
    """Case id → the number of the open (proposed or approved) list it is on."""
    open_items = DestructionListItem.objects.filter(
        destruction_list__status__in=[DestructionListStatus.PROPOSED, DestructionListStatus.APPROVED], state=DestructionItemState.PROPOSED
    ).select_related("destruction_list")
    return {item.case_id: item.destruction_list.number for item in open_items}


def _snapshot(item: DestructionListItem, record: CaseRecord) -> None:
    """Copy the metadata the archivist decides on (and the statement names) from the record."""
    item.number = record.case.registration.number
    item.kind = record.case.kind
    item.result_type_name = record.result_type.name if record.result_type else ""
    item.selectielijst_item = record.result_type.selectielijst_item if record.result_type else ""
    item.term_years = record.term_years
    item.source_date = record.source_date
    item.destroy_on = record.destroy_on
    item.merged_numbers = ", ".join(Case.objects.filter(merged_into_id=record.case_id).order_by("pk").values_list("registration__number", flat=True))[:500]


def destruction_list_create(*, as_of: datetime.date | None = None, actor) -> DestructionList:
    """Put the cases whose destruction date passed on ``as_of`` (default today) on a new list for the archivist."""
    require(actor, REVIEW_DESTRUCTION, message=NOT_ARCHIVIST)
    as_of = as_of or timezone.localdate()
    if as_of > timezone.localdate():
        raise ValidationError({"as_of": AS_OF_IN_FUTURE})
    try:
        destruction_list, count = _list_create(as_of, actor)
    except IntegrityError:
        # A twin list (a double click, two archivists at once) proposed these cases first: the database
        # refuses a case proposed on two lists. Looked at again, only what the twin left is proposed.
        logger.info("destruction list: a list made at the same moment took the cases; looking again")
        try:
            destruction_list, count = _list_create(as_of, actor)
        except IntegrityError:
            raise WorkflowError(NOTHING_TO_DESTROY % {"date": f"{as_of:%d-%m-%Y}"}) from None
    logger.info("destruction list %s proposed with %s cases by %s", destruction_list.number, count, getattr(actor, "username", "system"))
    return destruction_list


def _list_create(as_of: datetime.date, actor) -> tuple[DestructionList, int]:
    with transaction.atomic():
        taken = cases_on_open_lists()
        records = [record for record in destruction_candidates(as_of=as_of) if record.case_id not in taken]
        if not records:
            raise WorkflowError(NOTHING_TO_DESTROY % {"date": f"{as_of:%d-%m-%Y}"})
        destruction_list = DestructionList.objects.create(as_of=as_of, created_by=actor)
        items = []
        for record in records:
            item = DestructionListItem(destruction_list=destruction_list, case_id=record.case_id)
            _snapshot(item, record)
            items.append(item)
        DestructionListItem.objects.bulk_create(items)
    return destruction_list, len(items)


def _locked_item(item_id: int) -> DestructionListItem:
    item = DestructionListItem.objects.select_for_update(of=("self",)).select_related("destruction_list").get(pk=item_id)
    if item.destruction_list.status != DestructionListStatus.PROPOSED:
        raise WorkflowError(LIST_LOCKED % {"status": item.destruction_list.get_status_display()})
    return item


def destruction_item_exclude(*, item_id: int, reason: str, postpone_until: datetime.date | None = None, actor) -> DestructionListItem:
    """Keep a case off this destruction; with ``postpone_until`` it comes back on a list after that date."""
    require(actor, REVIEW_DESTRUCTION, message=NOT_ARCHIVIST)
    if not (reason or "").strip():
        raise ValidationError({"reason": EXCLUSION_NEEDS_REASON})
    if postpone_until is not None and postpone_until <= timezone.localdate():
        raise ValidationError({"postpone_until": POSTPONE_NOT_LATER})
    with transaction.atomic():
        item = _locked_item(item_id)
        item.state, item.reason, item.decided_by, item.decided_at = DestructionItemState.EXCLUDED, reason.strip(), actor, timezone.now()
        item.save()
        if postpone_until is not None:
            CaseRecord.objects.filter(case_id=item.case_id).update(destroy_on=postpone_until, updated_at=timezone.now())
        else:
            held = EXCLUDED_HOLD % {"list": item.destruction_list.number, "reason": item.reason}
            if CaseRecord.objects.filter(case_id=item.case_id, hold="").update(hold=RecordHold.OTHER, hold_reason=held, updated_at=timezone.now()):
                CaseEvent.objects.create(case_id=item.case_id, actor=actor, kind=EventKind.NOTE, name="hold", note=f"Niet vernietigen. {held}")
    return item


def destruction_item_include(*, item_id: int, actor) -> DestructionListItem:
    """Undo an exclusion while the list is under review (a postponed date goes back to the proposed one)."""
    require(actor, REVIEW_DESTRUCTION, message=NOT_ARCHIVIST)
    with transaction.atomic():
        item = _locked_item(item_id)
        if item.state != DestructionItemState.EXCLUDED:
            raise WorkflowError(NOT_EXCLUDED)
        item.state, item.reason, item.decided_by, item.decided_at = DestructionItemState.PROPOSED, "", actor, timezone.now()
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError:
            # Excluded here, it went on a newer list meanwhile (``one_open_proposal_per_case``).
            raise WorkflowError(ON_ANOTHER_LIST % {"list": cases_on_open_lists().get(item.case_id, "?")}) from None
        CaseRecord.objects.filter(case_id=item.case_id).update(destroy_on=item.destroy_on, updated_at=timezone.now())
        excluded_here = EXCLUDED_HOLD % {"list": item.destruction_list.number, "reason": ""}
        CaseRecord.objects.filter(case_id=item.case_id, hold=RecordHold.OTHER, hold_reason__startswith=excluded_here).update(
            hold="", hold_reason="", updated_at=timezone.now()
        )
    return item


def _locked_list(list_id: int, status: str = DestructionListStatus.PROPOSED) -> DestructionList:
    destruction_list = DestructionList.objects.select_for_update().get(pk=list_id)
    if destruction_list.status != status:
        raise WorkflowError(LIST_LOCKED % {"status": destruction_list.get_status_display()})
    return destruction_list


def destruction_list_approve(*, list_id: int, actor) -> DestructionList:
    """The archivist approves: the destruction of the cases still on the list starts after commit."""
    require(actor, REVIEW_DESTRUCTION, message=NOT_ARCHIVIST)
    with transaction.atomic():
        destruction_list = _locked_list(list_id)
        destruction_list.status = DestructionListStatus.APPROVED
        destruction_list.approved_at, destruction_list.approved_by = timezone.now(), actor
        destruction_list.approver_name = (actor.get_full_name() or actor.get_username()) if actor is not None else "systeem"
        destruction_list.save()
        # Robust: a failure to queue (or, run eagerly, a case that fails) leaves the list approved, to be restarted.
        dispatch.enqueue_on_commit(dispatch.DESTROY_LIST, destruction_list.pk, robust=True)
    logger.info("destruction list %s approved by %s", destruction_list.number, destruction_list.approver_name)
    return destruction_list


def destruction_list_cancel(*, list_id: int, actor) -> DestructionList:
    """Withdraw a list under review; its cases are no longer proposed and can go on a new list."""
    require(actor, REVIEW_DESTRUCTION, message=NOT_ARCHIVIST)
    with transaction.atomic():
        destruction_list = _locked_list(list_id)
        destruction_list.status = DestructionListStatus.CANCELLED
        destruction_list.save(update_fields=["status"])
        destruction_list.items.filter(state=DestructionItemState.PROPOSED).update(state=DestructionItemState.WITHDRAWN)
    return destruction_list


def _destroy_item(item_id: int, list_number: str) -> str:
    """Destroy one case of an approved list in its own transaction; returns the item's state afterwards."""
    with transaction.atomic():
        item = DestructionListItem.objects.select_for_update().get(pk=item_id)
        if item.state != DestructionItemState.PROPOSED:
            return item.state
        record = CaseRecord.objects.select_for_update(of=("self",)).select_related("case__registration", "result_type").get(case_id=item.case_id)
        reason = record_is_destroyable(record, timezone.localdate())
        now = timezone.now()
        if reason:
            item.state, item.reason, item.decided_at = DestructionItemState.SKIPPED, reason, now
            item.save(update_fields=["state", "reason", "decided_at"])
            return item.state
        _snapshot(item, record)
        case_wipe(record.case)
        record.destroyed_at = now
        record.save(update_fields=["destroyed_at", "updated_at"])
        note = DESTROYED_NOTE % {"list": list_number, "item": item.selectielijst_item, "term": item.term_years}
        CaseEvent.objects.create(case_id=record.case_id, kind=EventKind.NOTE, name="destroyed", note=str(note))
        item.state, item.decided_at = DestructionItemState.DESTROYED, now
        item.save()
    return item.state


def _finish(list_id: int) -> bool:
    """Every case done: make and keep the statement, and close the list. False while cases remain."""
    with transaction.atomic():
        destruction_list = DestructionList.objects.select_for_update().get(pk=list_id)
        if destruction_list.status != DestructionListStatus.APPROVED:
            return destruction_list.status == DestructionListStatus.DONE
        if destruction_list.items.filter(state=DestructionItemState.PROPOSED).exists():
            return False
        destruction_list.done_at = timezone.now()
        statement_store(destruction_list)
        destruction_list.status = DestructionListStatus.DONE
        destruction_list.save()
    logger.info("destruction list %s done; statement %s", destruction_list.number, destruction_list.statement_sha256[:12])
    return True


def destruction_list_execute(*, list_id: int) -> ExecutionResult:
    """Destroy the approved list's cases one by one, then keep the statement; safe to run again."""
    destruction_list = DestructionList.objects.get(pk=list_id)
    result = ExecutionResult()
    if destruction_list.status not in (DestructionListStatus.APPROVED, DestructionListStatus.DONE):
        raise WorkflowError(LIST_LOCKED % {"status": destruction_list.get_status_display()})
    for item_id, state in destruction_list.items.order_by("pk").values_list("pk", "state"):
        if state != DestructionItemState.PROPOSED:
            result.done_before += 1
            continue
        after = _destroy_item(item_id, destruction_list.number)
        result.destroyed += after == DestructionItemState.DESTROYED
        result.skipped += after == DestructionItemState.SKIPPED
    result.finished = _finish(list_id)
    return result
