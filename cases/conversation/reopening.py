"""Reopen requests: a citizen who was not satisfied (score 1 or 2) asks, in effect, to look again.

The officer decides: reopen (the case goes back to treatment, or consideration for a suggestion,
with its step on the timeline), or explain why not. Either way the decision is recorded and the
citizen gets a letter through the outbox (once), when we can reach them.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from cases import errors
from cases.conversation import texts
from cases.conversation.questions import refuse
from cases.conversation.satisfaction import reachable
from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import letter_queue
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, CaseState, EventKind, LetterKind, ReopenRequest, ReopenStatus
from cases.permissions import HANDLE_CASE, require
from cases.signals import case_transitioned
from cases.workflow.deadlines import reopened_answer_due
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)


def _reopen(case: Case, actor, note: str) -> None:
    """The reopen step of the case's kind; logged like every step."""
    method = case.reopen_complaint if case.is_complaint() else case.reopen_suggestion
    if case.state != CaseState.CLOSED or not can_proceed(method):
        refuse(WorkflowError(texts.REOPEN_CASE_NOT_CLOSED), "reopen", case.pk)
    if actor is not None and not has_transition_perm(method, actor):
        refuse(PermissionDenied(errors.NO_PERMISSION), "reopen", case.pk)
    from_state = case.state
    method()
    # The old term ran out long ago: the case is answered again within a new one, shown on the timeline.
    case.reopened_answer_due = reopened_answer_due(reopened_on=timezone.localdate())
    case.save()
    note = f"{note} {texts.REOPEN_NEW_TERM % {'date': f'{case.reopened_answer_due:%d-%m-%Y}'}}".strip()
    CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.TRANSITION, name=method.__name__, from_state=from_state, to_state=case.state, note=note)
    transaction.on_commit(lambda: case_transitioned.send(sender=Case, case_id=case.pk, transition=method.__name__, from_state=from_state, to_state=case.state))


def reopen_decide(*, case_id: int, request_id: int, reopen: bool, explanation: str, actor) -> ReopenRequest:
    """Reopen the case, or decline with an explanation for the citizen; recorded, and the citizen is told."""
    explanation = (explanation or "").strip()
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    if not reopen and not explanation:
        refuse(ValidationError({"explanation": texts.REOPEN_NEEDS_EXPLANATION}), "reopen decision", case_id)
    with transaction.atomic():
        case = locked_case(case_id)
        request = ReopenRequest.objects.select_for_update().filter(pk=request_id, case=case).first()
        if request is None or request.status != ReopenStatus.PENDING:
            refuse(WorkflowError(texts.REOPEN_NOT_PENDING), "reopen decision", case_id)
        if reopen:
            _reopen(case, actor, explanation)
        request.status = ReopenStatus.REOPENED if reopen else ReopenStatus.DECLINED
        request.decided_at = timezone.now()
        request.decided_by = actor
        request.explanation = explanation
        if reachable(case):
            draft = letter_compose(
                case=case, kind=LetterKind.REOPEN_DECISION, reopened=reopen, explanation=explanation, new_due=case.reopened_answer_due if reopen else None
            )
            request.letter = letter_queue(
                case_id=case.pk,
                kind=LetterKind.REOPEN_DECISION,
                subject=draft.subject,
                body_text=draft.body_text,
                actor=actor,
                dedupe_key=f"case:{case.pk}:reopen:{request.pk}",
            )
        request.save()
        CaseEvent.objects.create(
            case=case, actor=actor, kind=EventKind.NOTE, name="reopen_decided", note=f"{request.get_status_display()}. {explanation}".strip()
        )
    logger.info("case %s: reopen request %s %s by %s", case, request.pk, request.status, actor.get_username())
    return request
