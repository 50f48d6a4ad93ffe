"""A step and its letter in one transaction: both happen, or neither.

E.g. ``decline`` with the decline letter, ``answer`` with the answer (Awb 9:12), and the one
extension of the answer term with its interim notice (Awb 9:11 lid 2).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import letter_queue
from cases.errors import WorkflowError
from cases.models import Case, LetterKind, OutgoingMessage
from cases.workflow.transitions import case_extend, case_transition

# The letter that goes with a step, when it is given in writing: an answer goes out as the answer
# letter (Awb 9:12: findings, judgement, the ombudsman), a decline as the decline letter (9:8 lid 3),
# whose checks are the letter kind's, so another kind of letter may not carry the step.
STEP_LETTERS = {
    "acknowledge": LetterKind.ACKNOWLEDGEMENT,
    "schedule_hearing": LetterKind.HEARING_INVITATION,
    "forward": LetterKind.FORWARD_NOTICE,
    "decline": LetterKind.DECLINE,
    "explain": LetterKind.EXPLANATION,
    "answer": LetterKind.ANSWER,
    "respond": LetterKind.SUGGESTION_RESPONSE,
}
WRONG_LETTER = _("Deze stap gaat met een brief van de soort '%(expected)s', niet '%(given)s'. Er is niets verstuurd of gewijzigd.")


def case_step_with_letter(
    *, case_id: int, name: str, kind: str, subject: str, body_text: str, actor, expected_state: str | None = None, note: str = "", **params
) -> tuple[Case, OutgoingMessage]:
    """Run a transition and write its letter in one transaction."""
    expected = STEP_LETTERS.get(name)
    if expected is not None and kind != expected:
        given = LetterKind(kind).label if kind in LetterKind.values else kind
        raise WorkflowError(str(WRONG_LETTER % {"expected": expected.label, "given": given}))
    with transaction.atomic():
        case = case_transition(case_id=case_id, name=name, actor=actor, expected_state=expected_state, note=note, **params)
        message = letter_queue(case_id=case_id, kind=kind, subject=subject, body_text=body_text, actor=actor)
    return case, message


def case_extend_with_notice(
    *,
    case_id: int,
    new_due: datetime.date,
    reason: str,
    actor,
    subject: str | None = None,
    body_text: str | None = None,
    expected_state: str | None = None,
) -> tuple[Case, OutgoingMessage]:
    """Extend the answer term once (Awb 9:11 lid 2) and write the interim notice in the same transaction.

    Without ``body_text`` the notice is composed from its template (reason and new date filled in).
    """
    with transaction.atomic():
        case = case_extend(case_id=case_id, new_due=new_due, reason=reason, actor=actor, expected_state=expected_state)
        if body_text is None or subject is None:
            draft = letter_compose(case=Case.objects.select_related("registration").get(pk=case_id), kind=LetterKind.INTERIM_NOTICE)
            subject = subject if subject is not None else draft.subject
            body_text = body_text if body_text is not None else draft.body_text
        message = letter_queue(case_id=case_id, kind=LetterKind.INTERIM_NOTICE, subject=subject, body_text=body_text, actor=actor)
    return case, message
