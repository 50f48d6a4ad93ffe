"""Handling a case besides its steps: who handles it, internal notes, the promised call-back, and merging a duplicate.

A duplicate case is merged into the case that handles the matter; it keeps its number and its
timeline, points to the other case, and refuses every further step (``locked_case``).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.errors import CaseConflict, WorkflowError
from cases.models import Case, CaseEvent, CaseState, CitizenQuestion, EventKind, Registration, normal_email, normal_name
from cases.permissions import HANDLE_CASE, require
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)

MERGE_SELF = _("Een zaak kan niet met zichzelf worden samengevoegd.")
MERGE_ALREADY = _("Deze zaak is al samengevoegd met %(number)s.")
MERGE_TARGET_MERGED = _("Zaak %(number)s is zelf al samengevoegd met %(into)s; kies die zaak.")
MERGE_UNKNOWN = _("Er is geen zaak met nummer %(number)s.")
# A case merged into a closed one would be kept and destroyed by that case's term, not its own: an open
# complaint could go on a destruction list on the day it arrived.
MERGE_TARGET_CLOSED = _(
    "Zaak %(number)s is al afgesloten. Samenvoegen kan alleen met een zaak die nog loopt: behandel deze melding als nieuwe zaak, "
    "of heropen %(number)s als de indiener daarom vraagt."
)
# A merged case takes no step and sends no letter of its own: merging another citizen's complaint would
# leave that citizen without the answer Awb 9:12 owes each complainant.
MERGE_OTHER_SENDER = _(
    "Zaak %(number)s komt van een andere indiener. Iedere indiener krijgt een eigen antwoord (Awb 9:12), dus samenvoegen kan "
    "alleen bij een dubbele melding van dezelfde indiener. Behandel beide zaken, en noteer bij elk dat ze over hetzelfde gaan."
)
MERGE_HAS_DUPLICATES = _("Er zijn al zaken met deze zaak samengevoegd; voeg eerst die samen met de andere zaak.")
CALLBACK_REACHED = _("Teruggebeld, indiener gesproken")
CALLBACK_MISSED = _("Teruggebeld, indiener niet bereikt")
ASSIGN_NOT_OFFICER = _("%(name)s is geen kwaliteitsmedewerker en kan deze zaak niet behandelen.")


def follow_merges(case: Case) -> Case:
    """The case that handles the matter: a merged case points to it (with its registration)."""
    seen = set()
    while case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = Case.objects.select_related("registration").get(pk=case.merged_into_id)
    return case


def case_add_note(*, case_id: int, text: str, actor) -> CaseEvent:
    """An internal note on the timeline; never shown to the citizen. A note overwrites nothing, so
    it may be added to any case, also a merged one."""
    if not text.strip():
        raise ValidationError({"text": errors.NOTE_EMPTY})
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    return CaseEvent.objects.create(case_id=case_id, actor=actor, kind=EventKind.NOTE, name="note", note=text.strip(), internal=True)


def case_record_callback(*, case_id: int, reached: bool, note: str, actor, expected_state: str | None = None) -> Case:
    """The promised call-back (TEL-TERUGBELLEN) was made. Reached: the call-back is no longer owed (it stops being
    the case's next deadline). Not reached: a timeline note only, the deadline stands and the officer tries again.
    A second "reached" (a double click, a colleague) saves nothing and says when it was recorded."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if case.called_back_at is not None:
            raise WorkflowError(errors.CALLBACK_DONE_ALREADY % {"at": f"{timezone.localtime(case.called_back_at):%d-%m-%Y %H:%M}"})
        if not case.callback_owed():
            raise WorkflowError(errors.CALLBACK_NOT_OWED)
        if reached:
            case.called_back_at = timezone.now()
            case.save(update_fields=["called_back_at"])
        text = str(CALLBACK_REACHED if reached else CALLBACK_MISSED)
        note = f"{text}: {note.strip()}" if note.strip() else text
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="callback", note=note, internal=True, data={"reached": reached})
    logger.info("case %s: call-back recorded (reached: %s) by %s", case, reached, getattr(actor, "username", "system"))
    return case


def case_assign(*, case_id: int, officer_id: int | None, actor, expected_state: str | None = None, seen_officer: str | None = None) -> Case:
    """Give the case to an officer (or to nobody); logged on the timeline. ``seen_officer``: the handler's
    id the officer's page showed ("" for nobody); when a colleague changed it meanwhile, nothing is saved."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    officer = None
    if officer_id is not None:
        officer = get_user_model().objects.filter(pk=officer_id, is_active=True).first()
        if officer is None or not officer.has_perm(HANDLE_CASE):
            name = (officer.get_full_name() or officer.get_username()) if officer else str(officer_id)
            raise ValidationError({"officer": ASSIGN_NOT_OFFICER % {"name": name}})
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if case.assigned_to_id == getattr(officer, "pk", None):
            return case
        if seen_officer is not None and str(case.assigned_to_id or "") != seen_officer:
            current = (case.assigned_to.get_full_name() or case.assigned_to.get_username()) if case.assigned_to else "niemand"
            raise CaseConflict(errors.CONCURRENT_ASSIGN % {"name": current})
        case.assigned_to = officer
        case.save(update_fields=["assigned_to"])
        label = (officer.get_full_name() or officer.get_username()) if officer else "niemand"
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.ASSIGNED, name="assign", note=f"Toegewezen aan {label}", data={"officer": officer_id})
    logger.info("case %s assigned to %s by %s", case, getattr(officer, "username", None), getattr(actor, "username", "system"))
    return case


def one_sender(first: Registration, second: Registration) -> bool:
    """Whether two registrations come from one citizen as far as we can tell: the same e-mail address,
    or the same name (a second address of the same person). Without any contact on one side (anonymous)
    there is nobody to answer, so nobody is left without an answer."""
    contact = ("sender_name", "sender_email", "sender_address", "sender_phone")
    if not any(getattr(first, name) for name in contact) or not any(getattr(second, name) for name in contact):
        return True
    if first.sender_email and normal_email(first.sender_email) == normal_email(second.sender_email):
        return True
    if first.sender_phone and "".join(filter(str.isdigit, first.sender_phone)) == "".join(filter(str.isdigit, second.sender_phone)):
        return True
    return bool(normal_name(first.sender_name)) and normal_name(first.sender_name) == normal_name(second.sender_name)


def _merge_check(duplicate: Case, target: Case) -> None:
    """Refuse a merge into a closed case, of a case others were merged into, or of another citizen's case."""
    if target.state == CaseState.CLOSED:
        logger.warning("merge of %s refused: %s is closed", duplicate.registration.number, target.registration.number)
        raise ValidationError({"into": MERGE_TARGET_CLOSED % {"number": target.registration.number}})
    if Case.objects.filter(merged_into=duplicate).exists():
        raise WorkflowError(MERGE_HAS_DUPLICATES)
    if not one_sender(duplicate.registration, target.registration):
        logger.warning("merge of %s refused: %s comes from another sender", duplicate, target)
        raise ValidationError({"into": MERGE_OTHER_SENDER % {"number": target.registration.number}})


def _earlier_terms(duplicate: Case, target: Case) -> str:
    """The matter keeps the terms of its first receipt (Awb 9:11 lid 1 counts from receipt): a merged
    case that was due earlier lends its terms to the case that handles the matter. Returns the note."""
    # Only a term the target has still to meet: a step it took in time stays in time.
    unmet = {"acknowledgement_due": target.acknowledged_at is None, "answer_due": target.answered_at is None and target.extended_answer_due is None}
    changed = [
        field for field, open_ in unmet.items()
        if open_ and getattr(duplicate, field) and getattr(target, field) and getattr(duplicate, field) < getattr(target, field)
    ]
    for field in changed:
        setattr(target, field, getattr(duplicate, field))
    if not changed:
        return ""
    target.save(update_fields=changed)
    return f"De termijn van {duplicate.registration.number} geldt: antwoord uiterlijk {target.answer_due:%d-%m-%Y}. "


def case_merge(*, case_id: int, into_number: str, actor, expected_state: str | None = None, note: str = "") -> Case:
    """Merge a duplicate case into the case that handles the matter.

    The duplicate keeps its number, state and timeline and points to the other case; it leaves
    the inbox, and the workspace refuses further steps on it. Both timelines record the merge.
    """
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
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
        _merge_check(duplicate, target)
        duplicate.merged_into = target
        duplicate.save(update_fields=["merged_into"])
        CitizenQuestion.end_with_case(duplicate, actor=actor, why="merged")  # the other case's officer asks there, if still needed
        earlier = _earlier_terms(duplicate, target)
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
            note=f"Zaak {duplicate.registration.number} is hiermee samengevoegd. {earlier}{note.strip()}".strip(),
            data={"from": duplicate.pk},
        )
    logger.info("case %s merged into %s by %s", duplicate, target, getattr(actor, "username", "system"))
    return duplicate
