"""Moving cases through their states: lock, check, transition, log, and side effects after commit.

Every step on a case goes through here, whoever asks (a view, a task, the shell): the row is
locked, the state the officer saw is compared, a merged case refuses every step, the person
needs the step's permission, and the step and its event are written in one transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from cases import errors
from cases.calendar import default_calendar
from cases.errors import CaseConflict, WorkflowError
from cases.models import (
    Case,
    CaseEvent,
    CaseRecord,
    CaseState,
    CitizenQuestion,
    ComplaintOutcome,
    DeclineGround,
    EventKind,
    HearingWaiverGround,
    SuggestionOutcome,
)
from cases.permissions import HANDLE_CASE, require
from cases.signals import case_transitioned
from cases.workflow.deadlines import latest_extension_date

logger = logging.getLogger(__name__)

__all__ = [
    "FINAL_OUTCOMES",
    "TRANSITIONS",
    "CaseConflict",
    "WorkflowError",
    "allowed_transitions",
    "blocked_transitions",
    "case_extend",
    "case_transition",
    "case_record_hearing",
    "report_fingerprint",
    "seen_fingerprint",
    "case_waive_hearing",
    "locked_case",
]

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


def locked_case(case_id: int, expected_state: str | None = None) -> Case:
    """The case, locked until commit; ``CaseConflict`` when its state is not the one the officer saw,
    ``WorkflowError`` when it was merged into another case (that case is handled instead)."""
    case = Case.objects.select_for_update().select_related("registration").get(pk=case_id)
    if expected_state is not None and case.state != expected_state:
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
    if case.merged_into_id is not None:
        number = Case.objects.filter(pk=case.merged_into_id).values_list("registration__number", flat=True).first()
        raise WorkflowError(errors.CASE_IS_MERGED % {"number": number})
    return case


def case_transition(*, case_id: int, name: str, actor=None, expected_state: str | None = None, note: str = "", **params: Any) -> Case:
    """Run transition ``name`` on the case; all or nothing.

    ``actor`` None means the system (a task); a person needs the transition's permission.
    ``expected_state`` is the state the officer saw; if it changed meanwhile, ``CaseConflict``.
    """
    if name not in TRANSITIONS:
        raise WorkflowError(errors.UNKNOWN_STEP % {"name": name})
    _validate_params(name, params)
    try:
        with transaction.atomic():
            case = locked_case(case_id, expected_state)
            method = getattr(case, name)
            if not can_proceed(method):
                raise WorkflowError(_refusal(case, name))
            if actor is not None and not has_transition_perm(method, actor):
                raise PermissionDenied(errors.NO_PERMISSION)
            from_state = case.state
            method(**params)
            case.save()
            if case.state == CaseState.CLOSED:
                # Archiefwet: a closed case gets its result type, term and destruction date in the same transaction.
                CaseRecord.fix_at_closure(case)
                CitizenQuestion.end_with_case(case, actor=actor, why="closed")
            late = name == "decline" and case.decline_is_late()
            if late:
                # Still allowed (the law sets no sanction, and the officer may have good reason), but on record.
                logger.warning("case %s declined after the term of Awb 9:8 lid 3 (%s)", case, case.decline_due)
            CaseEvent.objects.create(
                case=case, actor=actor, kind=EventKind.TRANSITION, name=name, from_state=from_state, to_state=case.state, note=note,
                data={"late": {"term": "Awb 9:8 lid 3", "due": case.decline_due.isoformat()}} if late else {},
            )
            transaction.on_commit(lambda: case_transitioned.send(sender=Case, case_id=case.pk, transition=name, from_state=from_state, to_state=case.state))
    except ConcurrentTransition as exc:
        current = Case.objects.get(pk=case_id)
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": current.get_state_display()}) from exc
    logger.info("case %s: %s %s -> %s by %s", case, name, from_state, case.state, getattr(actor, "username", "system"))
    return case


def allowed_transitions(case: Case, user) -> list[str]:
    """The transitions this user may take now, in the order of TRANSITIONS (for buttons); none on a merged case."""
    if case.merged_into_id is not None:
        return []
    available = {t.name for t in case.get_available_user_state_transitions(user)}
    return [name for name in TRANSITIONS if name in available]


# Why a step that starts from the case's state cannot be taken yet, per guard that says no.
GUARD_REASONS = {"hearing_done_or_waived": errors.ANSWER_NEEDS_HEARING, "answer_not_stranded": errors.CLOSE_ANSWER_STRANDED}
# Guards that say the step belongs to the other workflow (complaint or suggestion): not shown at all.
KIND_GUARDS = {"is_complaint", "is_suggestion"}


def _guard_refusal(case: Case, step) -> str | None:
    """Why the guards of ``step`` (starting from the case's state) say no: the first failing guard's own reason, else
    the state; "" when none fails; None when the step belongs to the other workflow (complaint or suggestion)."""
    failing = [guard.__name__ for guard in step.conditions if not guard(case)]
    if KIND_GUARDS.intersection(failing):
        return None
    reasons = [GUARD_REASONS[guard] for guard in failing if guard in GUARD_REASONS]
    if reasons:
        return str(reasons[0])
    return str(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()}) if failing else ""


def _refusal(case: Case, name: str) -> str:
    """Why step ``name`` cannot be taken now: its guard's own reason when it starts from this state, else the state."""
    for step in case.get_all_state_transitions():
        if step.name == name and step.source in (case.state, "*", "+"):
            reason = _guard_refusal(case, step)
            if reason:
                return reason
    return str(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()})


def blocked_transitions(case: Case, user) -> list[tuple[str, str]]:
    """The steps from the case's state this user cannot take now, each with the reason (Dutch), in TRANSITIONS order.

    The workspace shows them disabled with the reason, so the officer sees what to do first.
    """
    if case.merged_into_id is not None or case.state == CaseState.CLOSED:
        return []
    allowed = set(allowed_transitions(case, user))
    blocked: dict[str, str] = {}
    for step in case.get_all_state_transitions():
        if step.name in allowed or step.name in blocked or step.source not in (case.state, "*", "+"):
            continue
        reason = _guard_refusal(case, step)
        if reason is None:
            continue
        if reason:
            blocked[step.name] = reason
        elif not has_transition_perm(getattr(case, step.name), user):
            blocked[step.name] = str(errors.NO_PERMISSION)
    return [(name, blocked[name]) for name in TRANSITIONS if name in blocked]


def case_extend(*, case_id: int, new_due: datetime.date, reason: str, actor=None, expected_state: str | None = None) -> Case:
    """Move the answer deadline once, by at most four weeks, with a reason for the interim notice (Awb 9:11 lid 2)."""
    if not reason.strip():
        raise ValidationError({"reason": errors.EXTENSION_NEEDS_REASON})
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if case.is_answered():
            raise WorkflowError(errors.EXTENSION_CLOSED)
        if not case.not_extended_yet():
            raise WorkflowError(errors.EXTENSION_TWICE)
        term = case.current_term_due()
        if not case.term_running():
            raise WorkflowError(errors.EXTENSION_TOO_LATE % {"due": f"{term:%d-%m-%Y}"})
        new_due = default_calendar().roll_forward(new_due)
        latest = latest_extension_date(case)
        if new_due <= term:
            raise ValidationError({"new_due": errors.EXTENSION_NOT_LATER % {"current": f"{term:%d-%m-%Y}"}})
        if new_due > latest:
            raise ValidationError({"new_due": errors.EXTENSION_TOO_LONG % {"latest": f"{latest:%d-%m-%Y}"}})
        case.extended_answer_due = new_due
        case.extension_reason = reason.strip()
        case.save(update_fields=["extended_answer_due", "extension_reason"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.EXTENDED, name="extend", note=reason.strip(), data={"new_due": new_due.isoformat()})
        transaction.on_commit(lambda: case_transitioned.send(sender=Case, case_id=case.pk, transition="extend", from_state=case.state, to_state=case.state))
    return case


def case_waive_hearing(*, case_id: int, ground: str, reason: str, actor=None, expected_state: str | None = None) -> Case:
    """Awb 9:10 lid 2: record on which of its three grounds the complainant is not heard, and why it applies."""
    if ground not in HearingWaiverGround.values:
        logger.warning("hearing waiver on case %s refused: ground %r", case_id, ground)
        raise ValidationError({"ground": errors.HEARING_NEEDS_GROUND})
    if not reason.strip():
        raise ValidationError({"reason": errors.HEARING_NEEDS_REASON})
    reason = f"{HearingWaiverGround(ground).label}. {reason.strip()}"
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if not case.hearing_waivable():
            raise WorkflowError(errors.HEARING_NOT_WAIVABLE % {"state": case.get_state_display()})
        case.hearing_waiver = reason.strip()
        case.save(update_fields=["hearing_waiver"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="waive_hearing", note=reason.strip())
    logger.info("case %s: hearing waived by %s", case, getattr(actor, "username", "system"))
    return case


def seen_fingerprint(text: str) -> str:
    """What a form carries of the text it showed (never the text itself): a save from a page a colleague's change
    made stale is refused, not written over that change."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


def report_fingerprint(report: str) -> str:
    """What the officer's form saw of the hearing report: a colleague's report saved meanwhile is not overwritten."""
    return seen_fingerprint(report.strip())


def case_record_hearing(
    *, case_id: int, report: str, complained_about: str = "", actor=None, expected_state: str | None = None, seen_report: str | None = None
) -> Case:
    """Awb 9:10 lid 3: the report of the hearing, on or after its day and before the answer, with the
    person whose conduct the complaint is about (lid 1: heard too). Written again, it replaces the
    earlier text; the timeline keeps both. ``seen_report``: the fingerprint of the report the form showed."""
    report, complained_about = report.strip(), complained_about.strip()
    if not report:
        raise ValidationError({"report": errors.HEARING_REPORT_EMPTY})
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if not case.hearing_reportable():
            logger.warning("hearing report on case %s refused in state %s (hearing on %s)", case, case.state, case.hearing_on)
            raise WorkflowError(errors.HEARING_REPORT_NOT_YET % {"state": case.get_state_display()})
        if (report, complained_about) == (case.hearing_report.strip(), case.complained_about.strip()):
            return case  # the same report again (a second click, Back and send): nothing changes
        if seen_report is not None and seen_report != report_fingerprint(case.hearing_report):
            raise CaseConflict(errors.CONCURRENT_REPORT)
        case.hearing_report, case.complained_about = report, complained_about
        case.save(update_fields=["hearing_report", "complained_about"])
        CaseEvent.objects.create(
            case=case, actor=actor, kind=EventKind.NOTE, name="hearing_report", note=report, data={"complained_about": complained_about}
        )
    logger.info("case %s: hearing report recorded by %s", case, getattr(actor, "username", "system"))
    return case
