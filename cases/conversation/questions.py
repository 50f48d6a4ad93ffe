"""Questions to the citizen (*reactie gevraagd*, as Signalen calls it) and their replies.

The officer asks from the case page; the question goes through the outbox (e-mail, threaded, or a
PDF letter when there is no e-mail address) and stands on the private page with a reply form.
The citizen answers there, by e-mail (a threaded reply) or by letter (recorded by an officer).
The Awb 9:11 term keeps running meanwhile — the law has no pause for complaints — and the waiting
time (asked → answered) is kept, so the figures can show it apart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from cases import errors
from cases.conversation import texts
from cases.conversation.notify import reply_notify_later
from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import angle, letter_queue
from cases.errors import WorkflowError
from cases.intake.parsing.rules import reply_without_quote
from cases.intake.uploads import CheckedUpload, attachments_store
from cases.models import (
    AnswerChannel,
    Attachment,
    Case,
    CaseEvent,
    CaseState,
    CitizenQuestion,
    EventKind,
    InboundMessage,
    LetterKind,
    OutgoingMessage,
    QuestionStatus,
)
from cases.permissions import HANDLE_CASE, require
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 10_000


def refuse(exc: Exception, what: str, case_id) -> None:
    """Log why, then refuse: nothing was changed."""
    logger.warning("%s refused for case %s: %s", what, case_id, exc)
    raise exc


def question_ask(*, case_id: int, text: str, actor, expected_state: str | None = None) -> CitizenQuestion:
    """Ask the citizen a question; the letter goes through the outbox in the same transaction."""
    text = (text or "").strip()
    if not text:
        refuse(ValidationError({"text": texts.QUESTION_EMPTY}), "question", case_id)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        if case.state == CaseState.CLOSED:
            refuse(WorkflowError(texts.QUESTION_CASE_CLOSED), "question", case_id)
        if CitizenQuestion.objects.filter(case=case, status=QuestionStatus.OPEN).exists():
            refuse(WorkflowError(texts.QUESTION_ALREADY_OPEN), "question", case_id)
        question = CitizenQuestion.objects.create(case=case, text=text, asked_by=actor)
        draft = letter_compose(case=case, kind=LetterKind.QUESTION, question=text)
        question.letter = letter_queue(
            case_id=case.pk,
            kind=LetterKind.QUESTION,
            subject=draft.subject,
            body_text=draft.body_text,
            actor=actor,
            dedupe_key=f"case:{case.pk}:question:{question.pk}",
        )
        question.save(update_fields=["letter"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="question_asked", note=text, data={"question": question.pk})
    logger.info("case %s: question %s asked by %s (%s)", case, question.pk, getattr(actor, "username", "system"), question.letter.channel)
    return question


def question_answer(
    *,
    case_id: int,
    question_id: int,
    text: str,
    uploads: Sequence[CheckedUpload] = (),
    channel: str = AnswerChannel.WEB,
    inbound: InboundMessage | None = None,
    actor=None,
) -> CitizenQuestion:
    """The citizen's reply to an open question of this case: stored once, with its attachments.

    ``case_id`` is the case the private link (or the threaded e-mail) belongs to; a question of
    another case is refused as not found, so a link can never answer someone else's question.
    """
    text = (text or "").strip()
    if channel in (AnswerChannel.LETTER, AnswerChannel.PHONE):
        require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    mail_attachments = list(Attachment.objects.filter(inbound_message=inbound)) if inbound is not None else []
    _reply_check(text, has_files=bool(uploads or mail_attachments), case_id=case_id)
    with transaction.atomic():
        question = CitizenQuestion.objects.select_for_update().select_related("case__registration").filter(pk=question_id, case_id=case_id).first()
        if question is None:
            refuse(WorkflowError(texts.QUESTION_NOT_FOUND), "reply", case_id)
        if question.status != QuestionStatus.OPEN:
            refuse(WorkflowError(texts.QUESTION_NOT_OPEN), "reply", case_id)
        stored = attachments_store(registration=question.case.registration, uploads=uploads)
        question.status = QuestionStatus.ANSWERED
        question.answered_at = timezone.now()
        question.answer_text = text
        question.answer_channel = channel
        question.answer_inbound = inbound
        question.save(update_fields=["status", "answered_at", "answer_text", "answer_channel", "answer_inbound"])
        question.attachments.add(*stored, *mail_attachments)
        CaseEvent.objects.create(
            case=question.case,
            actor=actor,
            kind=EventKind.MESSAGE_IN,
            name="question_answer",
            note=text,
            data={"question": question.pk, "channel": channel, "attachments": [a.pk for a in (*stored, *mail_attachments)]},
        )
    reply_notify_later(question.pk)
    logger.info("case %s: question %s answered (%s), waited %s", question.case, question.pk, channel, question.waiting_time)
    return question


def _reply_check(text: str, *, has_files: bool, case_id) -> None:
    if len(text) > MAX_REPLY_CHARS:
        refuse(ValidationError({"text": texts.REPLY_TOO_LONG % {"max": MAX_REPLY_CHARS}}), "reply", case_id)
    if not text and not has_files:
        refuse(ValidationError({"text": texts.REPLY_EMPTY}), "reply", case_id)


def question_reply_web(*, case_id: int, question_id: int, text: str, uploads: Sequence[CheckedUpload] = ()) -> bool:
    """The private page's reply: the answer to an open question, or, when the question was answered
    meanwhile (a second tab, a page left open, a double click) or withdrawn, an addition kept with it,
    so nothing the citizen typed is lost. Returns True for an addition (False: answered now, or the
    same text again)."""
    text = (text or "").strip()
    _reply_check(text, has_files=bool(uploads), case_id=case_id)
    with transaction.atomic():
        question = CitizenQuestion.objects.select_for_update().select_related("case__registration").filter(pk=question_id, case_id=case_id).first()
        if question is None:
            refuse(WorkflowError(texts.QUESTION_NOT_FOUND), "reply", case_id)
        if question.status == QuestionStatus.OPEN:
            question_answer(case_id=case_id, question_id=question_id, text=text, uploads=uploads, channel=AnswerChannel.WEB)
            return False
        return _addition_keep(question, text=text, uploads=uploads)


def _sent_again(question: CitizenQuestion, *, text: str, uploads: Sequence[CheckedUpload]) -> bool:
    """The answer or its last addition, with the same files, posted again (a double click, Back and send)."""
    answer = (question.answer_text or "").strip()
    same_text = (text == answer or answer.endswith("\n" + text)) if text else True
    kept = set(question.attachments.values_list("sha256", flat=True)) if uploads else set()
    return (bool(text) or bool(uploads)) and same_text and all(upload.sha256 in kept for upload in uploads) and question.answered_at is not None


def _addition_keep(question: CitizenQuestion, *, text: str, uploads: Sequence[CheckedUpload]) -> bool:
    """A reply after the question was answered or withdrawn: added below the answer, or, for a withdrawn question,
    its answer after all; either way it goes to the officer's 'Antwoorden om te lezen' and stands in the
    conversation. The same text and files sent again (a double click) are kept once."""
    if _sent_again(question, text=text, uploads=uploads):
        logger.info("case %s: reply to question %s sent again; kept once", question.case, question.pk)
        return False
    stored, was = attachments_store(registration=question.case.registration, uploads=uploads), question.status
    if was == QuestionStatus.ANSWERED:
        header = texts.ADDITION_HEADER % {"date": date_format(timezone.localtime(), "j F Y H:i")}
        question.answer_text = f"{question.answer_text}\n\n{header}\n{text}".strip()
    else:  # withdrawn (no longer needed, or its case ended), and answered after all: the officer reads it all the same
        question.status, question.answer_text, question.answered_at, question.answer_channel = QuestionStatus.ANSWERED, text, timezone.now(), AnswerChannel.WEB
    question.read_at = None
    question.save(update_fields=["status", "answer_text", "answered_at", "answer_channel", "read_at"])
    question.attachments.add(*stored)
    CaseEvent.objects.create(
        case=question.case,
        kind=EventKind.MESSAGE_IN,
        name="question_answer_addition",
        note=text,
        data={"question": question.pk, "question_status": was, "channel": AnswerChannel.WEB, "attachments": [a.pk for a in stored]},
    )
    logger.info("case %s: reply to question %s after it was %s, kept as an addition", question.case, question.pk, was)
    return True


def _ids(header: str) -> set[str]:
    return {angle(part) for part in (header or "").split() if part.strip()}


def question_for_inbound(case: Case, inbound: InboundMessage) -> CitizenQuestion | None:
    """The open question this threaded e-mail answers: the one whose letter it replies to, or else the
    case's first open question. Only a mail from the citizen's own address that passed the receiving
    server's checks (``from_sender``) answers: one from another address, or found forged, stays on the
    timeline for the officer, who can take it as the answer by hand, and never stands on the citizen's page."""
    if not inbound.from_sender:
        return None
    open_questions = list(CitizenQuestion.objects.filter(case=case, status=QuestionStatus.OPEN).select_related("letter"))
    if not open_questions:
        return None
    named = _ids(inbound.in_reply_to) | _ids(inbound.references)
    for question in open_questions:
        if question.letter is not None and angle(question.letter.message_id) in named:
            return question
    # A reply to a letter that asks something of its own (a request to wait longer, "bent u tevreden?") or that we
    # sent after the question (an interim notice) is about that letter, not the answer; one to an earlier letter
    # (the acknowledgement's thread) or to none may well be.
    about_another = OutgoingMessage.objects.filter(
        Q(kind__in=ASKS_OF_ITS_OWN) | Q(created_at__gt=open_questions[0].asked_at), case=case
    ).exclude(message_id="")
    if any(angle(message_id) in named for message_id in about_another.values_list("message_id", flat=True)):
        return None
    return open_questions[0]


# Letters the citizen answers on their own page or by recorded reply: a reply to them answers them, not a question.
ASKS_OF_ITS_OWN = (LetterKind.CONSENT_REQUEST, LetterKind.SATISFACTION, LetterKind.REOPEN_DECISION)


def _email_answer(text: str) -> str:
    """A mail's answer without the conversation its mail program quoted below it; never refused for its
    length (the whole mail is on the timeline): shortened to the reply form's limit, saying so."""
    text = reply_without_quote(text)
    if len(text) > MAX_REPLY_CHARS:
        marker = str(texts.REPLY_SHORTENED)
        text = text[: MAX_REPLY_CHARS - len(marker) - 1].rstrip() + "\n" + marker
    return text


def question_answer_from_email(*, case_id: int, inbound: InboundMessage) -> CitizenQuestion | None:
    """A threaded reply of the citizen lands as the answer to the case's open question (if any)."""
    case = Case.objects.select_related("registration").get(pk=case_id)
    question = question_for_inbound(case, inbound)
    if question is None:
        return None
    try:
        with transaction.atomic():
            return question_answer(case_id=case.pk, question_id=question.pk, text=_email_answer(inbound.text), channel=AnswerChannel.EMAIL, inbound=inbound)
    except (ValidationError, WorkflowError) as exc:
        # The mail itself is on the timeline already; the officer links it by hand.
        logger.warning("reply %s of case %s not taken as the answer to question %s: %s", inbound.pk, case, question.pk, exc)
        return None
    except Exception:
        # Never lose the reply itself over the conversation: it stays on the timeline for the officer.
        logger.exception("reply %s of case %s could not be stored as the answer to question %s", inbound.pk, case, question.pk)
        return None


def question_withdraw(*, case_id: int, question_id: int, actor) -> CitizenQuestion:
    """The officer no longer needs the answer (e.g. asked by phone meanwhile)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        question = CitizenQuestion.objects.select_for_update().filter(pk=question_id, case_id=case_id).first()
        if question is None or question.status != QuestionStatus.OPEN:
            refuse(WorkflowError(texts.QUESTION_NOT_OPEN), "withdraw question", case_id)
        question.status = QuestionStatus.WITHDRAWN
        question.save(update_fields=["status"])
        CaseEvent.objects.create(
            case_id=case_id, actor=actor, kind=EventKind.NOTE, name="question_withdrawn", note=question.text, data={"question": question.pk}
        )
    logger.info("case %s: question %s withdrawn by %s", case_id, question_id, actor.get_username())
    return question


def question_mark_read(*, question_id: int, actor) -> None:
    """The officer read the reply: it leaves the queue 'antwoorden om te lezen'."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    CitizenQuestion.objects.filter(pk=question_id, status=QuestionStatus.ANSWERED, read_at__isnull=True).update(read_at=timezone.now())
