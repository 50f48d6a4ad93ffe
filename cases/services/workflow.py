"""Moving cases through their states: lock, check, transition, log, and side effects after commit."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from cases import errors
from cases.calendar import default_calendar
from cases.models import (
    MAX_EXTENSION_WEEKS,
    Case,
    CaseEvent,
    CaseState,
    ComplaintOutcome,
    DeclineGround,
    EventKind,
    SuggestionOutcome,
)
from cases.signals import case_transitioned

logger = logging.getLogger(__name__)

# The transitions an officer (or a task) may ask for by name, with the parameters each needs.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledge": (),
    "resolve_informally": (),
    "forward": ("to",),
    "decline": ("ground",),
    "start_treatment": ("officer",),
    "schedule_hearing": ("on",),
    "explain": (),
    "answer": (),
    "close": ("outcome",),
    "consider": ("officer",),
    "respond": ("outcome",),
    "close_suggestion": (),
    "withdraw": (),
}
FINAL_OUTCOMES = {ComplaintOutcome.WELL_FOUNDED, ComplaintOutcome.PARTLY_FOUNDED, ComplaintOutcome.UNFOUNDED, ComplaintOutcome.NO_JUDGEMENT}


class WorkflowError(Exception):
    """A step that cannot be taken; ``str(exc)`` is a Dutch message for the officer."""


class CaseConflict(WorkflowError):
    """Someone else changed the case first."""


def _validate_params(name: str, params: dict[str, Any]) -> None:
    missing = [key for key in TRANSITIONS[name] if params.get(key) in (None, "")]
    if missing:
        raise ValidationError({key: "Dit veld is verplicht." for key in missing})
    if name == "decline" and params["ground"] not in DeclineGround.values:
        raise ValidationError({"ground": "Kies een grond uit Awb 9:8."})
    if name == "close" and params["outcome"] not in FINAL_OUTCOMES:
        raise ValidationError({"outcome": "Kies gegrond, deels gegrond, ongegrond of geen oordeel."})
    if name == "respond" and params["outcome"] not in SuggestionOutcome.values:
        raise ValidationError({"outcome": "Kies wat er met de suggestie gebeurt."})
    if name == "schedule_hearing" and not isinstance(params["on"], datetime.date):
        raise ValidationError({"on": "Vul een datum in."})


def _locked_case(case_id: int, expected_state: str | None) -> Case:
    case = Case.objects.select_for_update().select_related("registration").get(pk=case_id)
    if expected_state is not None and case.state != expected_state:
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
    return case


def case_transition(*, case_id: int, name: str, actor=None, expected_state: str | None = None, note: str = "", **params: Any) -> Case:
    """Run transition ``name`` on the case; all or nothing.

    ``actor`` None means the system (a task); a person needs the transition's permission.
    ``expected_state`` is the state the officer saw; if it changed meanwhile, ``CaseConflict``.
    """
    if name not in TRANSITIONS:
        raise WorkflowError(f"Onbekende stap: {name}")
    _validate_params(name, params)
    try:
        with transaction.atomic():
            case = _locked_case(case_id, expected_state)
            method = getattr(case, name)
            if not can_proceed(method):
                raise WorkflowError(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()})
            if actor is not None and not has_transition_perm(method, actor):
                raise PermissionDenied(errors.NO_PERMISSION)
            from_state = case.state
            method(**params)
            case.save()
            CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.TRANSITION, name=name, from_state=from_state, to_state=case.state, note=note)
            transaction.on_commit(lambda: case_transitioned.send(sender=Case, case_id=case.pk, transition=name, from_state=from_state, to_state=case.state))
    except ConcurrentTransition as exc:
        current = Case.objects.get(pk=case_id)
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": current.get_state_display()}) from exc
    logger.info("case %s: %s %s -> %s by %s", case, name, from_state, case.state, getattr(actor, "username", "system"))
    return case


def allowed_transitions(case: Case, user) -> list[str]:
    """The transitions this user may take now, in the order of TRANSITIONS (for buttons)."""
    available = {t.name for t in case.get_available_user_state_transitions(user)}
    return [name for name in TRANSITIONS if name in available]


def latest_extension_date(case: Case) -> datetime.date:
    """Awb 9:11(2): at most four weeks after the original answer term."""
    return case.answer_due + datetime.timedelta(weeks=MAX_EXTENSION_WEEKS)


def case_extend(*, case_id: int, new_due: datetime.date, reason: str, actor=None, expected_state: str | None = None) -> Case:
    """Move the answer deadline once, by at most four weeks, with a reason for the interim notice."""
    if not reason.strip():
        raise ValidationError({"reason": errors.EXTENSION_NEEDS_REASON})
    with transaction.atomic():
        case = _locked_case(case_id, expected_state)
        if actor is not None and not actor.has_perm("cases.handle_case"):
            raise PermissionDenied(errors.NO_PERMISSION)
        if case.state in (CaseState.CLOSED, CaseState.ANSWERED, CaseState.RESPONDED):
            raise WorkflowError(errors.EXTENSION_CLOSED)
        if not case.not_extended_yet():
            raise WorkflowError(errors.EXTENSION_TWICE)
        new_due = default_calendar().roll_forward(new_due)
        latest = default_calendar().roll_forward(latest_extension_date(case))
        if new_due <= case.answer_due:
            raise ValidationError({"new_due": errors.EXTENSION_NOT_LATER % {"current": f"{case.answer_due:%d-%m-%Y}"}})
        if new_due > latest:
            raise ValidationError({"new_due": errors.EXTENSION_TOO_LONG % {"latest": f"{latest:%d-%m-%Y}"}})
        case.extended_answer_due = new_due
        case.extension_reason = reason.strip()
        case.save(update_fields=["extended_answer_due", "extension_reason"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.EXTENDED, name="extend", note=reason.strip(), data={"new_due": new_due.isoformat()})
        transaction.on_commit(lambda: case_transitioned.send(sender=Case, case_id=case.pk, transition="extend", from_state=case.state, to_state=case.state))
    return case


def case_waive_hearing(*, case_id: int, reason: str, actor=None) -> Case:
    """Awb 9:10(2): record why the complainant is not heard (obviously unfounded, waived, ...)."""
    if not reason.strip():
        raise ValidationError({"reason": "Vermeld waarom er geen hoorzitting is (Awb 9:10 lid 2)."})
    with transaction.atomic():
        case = _locked_case(case_id, None)
        case.hearing_waiver = reason.strip()
        case.save(update_fields=["hearing_waiver"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="waive_hearing", note=reason.strip())
    return case


def case_add_note(*, case_id: int, text: str, actor) -> CaseEvent:
    """An internal note on the timeline; never shown to the citizen."""
    if not text.strip():
        raise ValidationError({"text": "Een notitie kan niet leeg zijn."})
    return CaseEvent.objects.create(case_id=case_id, actor=actor, kind=EventKind.NOTE, name="note", note=text.strip(), internal=True)
