"""Consent to wait longer (Awb 9:11 lid 3).

The answer may be postponed once, by at most four weeks, with a written notice
(``cases.workflow.transitions.case_extend``); any further delay only with the complainant's
written consent. The officer asks for it here; the citizen agrees or refuses on the private page,
or the officer records an answer that came by letter or e-mail. Agreed, the answer term moves to
the proposed date in the same transaction; refused, nothing moves, and ``case_extend`` keeps
refusing a second postponement, saying why.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import errors
from cases.calendar import default_calendar
from cases.conversation import texts
from cases.conversation.questions import refuse
from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import letter_queue
from cases.errors import WorkflowError
from cases.models import AnswerChannel, CaseEvent, ConsentRequest, ConsentStatus, EventKind, LetterKind
from cases.permissions import HANDLE_CASE, require
from cases.signals import case_transitioned
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)


def consent_request(*, case_id: int, proposed_due: datetime.date, reason: str, actor, expected_state: str | None = None) -> ConsentRequest:
    """Ask the complainant's written consent to answer later than the extended term."""
    reason = (reason or "").strip()
    if not reason:
        refuse(ValidationError({"reason": texts.CONSENT_NEEDS_REASON}), "consent request", case_id)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if case.is_answered():
            refuse(WorkflowError(texts.CONSENT_CASE_ANSWERED), "consent request", case_id)
        if case.not_extended_yet():
            refuse(WorkflowError(texts.CONSENT_NOT_NEEDED), "consent request", case_id)
        if ConsentRequest.objects.filter(case=case).awaiting(timezone.localdate()).exists():
            refuse(WorkflowError(texts.CONSENT_ALREADY_PENDING), "consent request", case_id)
        proposed_due = default_calendar().roll_forward(proposed_due)
        if proposed_due <= case.effective_answer_due:
            refuse(
                ValidationError({"proposed_due": texts.CONSENT_DATE_NOT_LATER % {"current": f"{case.effective_answer_due:%d-%m-%Y}"}}),
                "consent request",
                case_id,
            )
        consent = ConsentRequest.objects.create(case=case, proposed_due=proposed_due, reason=reason, requested_by=actor)
        draft = letter_compose(case=case, kind=LetterKind.CONSENT_REQUEST, reason=reason, proposed_due=proposed_due)
        consent.letter = letter_queue(
            case_id=case.pk,
            kind=LetterKind.CONSENT_REQUEST,
            subject=draft.subject,
            body_text=draft.body_text,
            actor=actor,
            dedupe_key=f"case:{case.pk}:consent:{consent.pk}",
        )
        consent.save(update_fields=["letter"])
        CaseEvent.objects.create(
            case=case,
            actor=actor,
            kind=EventKind.NOTE,
            name="consent_requested",
            note=reason,
            data={"consent": consent.pk, "proposed_due": proposed_due.isoformat()},
        )
    logger.info("case %s: consent to wait until %s requested by %s", case, proposed_due, actor.get_username())
    return consent


def consent_answer(*, case_id: int, consent_id: int, agreed: bool, channel: str = AnswerChannel.WEB, note: str = "", actor=None) -> ConsentRequest:
    """The complainant's answer; agreed, the answer term moves to the proposed date (the second postponement)."""
    if channel != AnswerChannel.WEB:
        # An answer by letter, e-mail or phone is recorded by an officer, who answers for it.
        require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    if agreed and channel == AnswerChannel.PHONE:
        refuse(ValidationError({"channel": texts.CONSENT_NOT_IN_WRITING}), "consent answer", case_id)  # a refusal may be oral
    with transaction.atomic():
        case = locked_case(case_id)
        consent = ConsentRequest.objects.select_for_update().filter(pk=consent_id, case=case).first()
        if consent is None:
            refuse(WorkflowError(texts.CONSENT_NOT_FOUND), "consent answer", case_id)
        if consent.status != ConsentStatus.PENDING:
            refuse(WorkflowError(texts.CONSENT_NOT_PENDING), "consent answer", case_id)
        if not consent_answerable(consent):
            refuse(WorkflowError(texts.CONSENT_EXPIRED), "consent answer", case_id)
        consent.status = ConsentStatus.AGREED if agreed else ConsentStatus.REFUSED
        consent.answered_at = timezone.now()
        consent.answer_channel = channel
        consent.note = (note or "").strip()
        consent.recorded_by = actor
        if agreed and not case.is_answered():
            case.extended_answer_due = consent.proposed_due
            case.extension_reason = f"{case.extension_reason}\n{consent.reason}".strip()
            case.save(update_fields=["extended_answer_due", "extension_reason"])
            consent.applied = True
            CaseEvent.objects.create(
                case=case,
                actor=actor,
                kind=EventKind.EXTENDED,
                name="extend_with_consent",
                note=consent.reason,
                data={"new_due": consent.proposed_due.isoformat(), "consent": consent.pk},
            )
            transaction.on_commit(
                lambda: case_transitioned.send(sender=type(case), case_id=case.pk, transition="extend", from_state=case.state, to_state=case.state)
            )
        consent.save()
        CaseEvent.objects.create(
            case=case,
            actor=actor,
            kind=EventKind.MESSAGE_IN,
            name="consent_answer",
            note=consent.get_status_display(),
            data={"consent": consent.pk, "channel": channel},
        )
    logger.info("case %s: consent %s %s (%s)", case, consent.pk, consent.status, channel)
    return consent


def consent_answerable(consent: ConsentRequest) -> bool:
    """Whether the citizen can still answer this request today (``ConsentRequestQuerySet.awaiting``)."""
    return ConsentRequest.objects.filter(pk=consent.pk).awaiting(timezone.localdate()).exists()


def consents_expire(*, today: datetime.date | None = None) -> int:
    """Beat, daily: pending requests nobody can answer any more (the proposed date passed, or the case was
    answered) become 'verlopen', on the case's timeline; nothing moves. Returns how many expired."""
    today = today or timezone.localdate()
    expired = 0
    for consent_id, case_id in ConsentRequest.objects.lapsed(today).values_list("pk", "case_id"):
        with transaction.atomic():
            consent = ConsentRequest.objects.select_for_update().filter(pk=consent_id, status=ConsentStatus.PENDING).first()
            if consent is None:
                continue  # answered meanwhile
            consent.status, consent.expired_at = ConsentStatus.EXPIRED, timezone.now()
            consent.save(update_fields=["status", "expired_at"])
            CaseEvent.objects.create(
                case_id=case_id, kind=EventKind.NOTE, name="consent_expired", note=str(texts.CONSENT_EXPIRED_NOTE), data={"consent": consent_id}
            )
            expired += 1
    if expired:
        logger.info("%s consent request(s) expired", expired)
    return expired
