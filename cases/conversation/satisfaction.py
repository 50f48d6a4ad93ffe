"""Satisfaction after closure: some working days after a case closed, the citizen is asked once how
satisfied they were with how it was handled (1–5) and why. A score of 1 or 2 ("not satisfied")
creates a reopen request the officer decides on (``cases.conversation.reopening``).

Asked once, ever: the survey row is unique per case, and its e-mail has a fixed outbox key. Never
asked: a withdrawn or forwarded case, a merged duplicate, or a citizen we cannot reach (no e-mail
address and no postal address). Without a working e-mail address the question only stands on the
private page (no letter by post: the citizen has the link from our letters).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.calendar import default_calendar
from cases.conversation import texts
from cases.conversation.questions import refuse
from cases.correspondence.composing import letter_compose
from cases.correspondence.outbox import delivery_channel, letter_queue
from cases.errors import WorkflowError
from cases.models import (
    Case,
    CaseEvent,
    CaseState,
    ComplaintOutcome,
    DeliveryChannel,
    EventKind,
    LetterKind,
    ReopenRequest,
    SatisfactionSurvey,
)

logger = logging.getLogger(__name__)

NOT_SATISFIED = 2  # a score at or below this creates a reopen request
NEVER_ASKED_OUTCOMES = (ComplaintOutcome.WITHDRAWN, ComplaintOutcome.FORWARDED)
CATCH_UP_DAYS = 28


def closed_on_or_before(today: datetime.date, working_days: int) -> datetime.date:
    """The last closing day for which ``working_days`` working days have passed by ``today``."""
    calendar = default_calendar()
    day = today
    for _ in range(working_days):
        day -= datetime.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= datetime.timedelta(days=1)
    return day


def reachable(case: Case) -> bool:
    """Anonymous citizens (no e-mail, no postal address) are never asked."""
    registration = case.registration
    return bool(registration.sender_email.strip() or registration.sender_address.strip())


def surveys_due(*, today: datetime.date | None = None) -> list[int]:
    """Closed cases whose satisfaction question is due today and was never asked."""
    delay = settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS
    if delay <= 0:
        return []
    today = today or timezone.localdate()
    latest = closed_on_or_before(today, delay)
    until = timezone.make_aware(datetime.datetime.combine(latest + datetime.timedelta(days=1), datetime.time.min))
    # Beat runs missed for up to CATCH_UP_DAYS are caught up; cases closed long before (e.g. before this
    # feature went live) are never asked out of the blue.
    since = until - datetime.timedelta(days=CATCH_UP_DAYS)
    candidates = (
        Case.objects.filter(state=CaseState.CLOSED, closed_at__lt=until, closed_at__gte=since, merged_into__isnull=True, satisfaction__isnull=True)
        .exclude(outcome__in=NEVER_ASKED_OUTCOMES)
        .exclude(events__kind=EventKind.TRANSITION, events__name="withdraw")  # a withdrawn suggestion has no outcome
        .select_related("registration")
    )
    return [case.pk for case in candidates if reachable(case)]


def survey_ask(*, case_id: int) -> SatisfactionSurvey | None:
    """Ask once: the survey row, and an e-mail when the citizen has a working address."""
    case = Case.objects.select_related("registration").get(pk=case_id)
    if case.state != CaseState.CLOSED or case.merged_into_id or case.outcome in NEVER_ASKED_OUTCOMES or not reachable(case):
        logger.info("case %s: no satisfaction question (state %s, outcome %s)", case, case.state, case.outcome)
        return None
    try:
        with transaction.atomic():
            survey = SatisfactionSurvey.objects.create(case=case)
            channel, _note = delivery_channel(case.registration)
            if channel == DeliveryChannel.EMAIL:
                draft = letter_compose(case=case, kind=LetterKind.SATISFACTION)
                survey.letter = letter_queue(
                    case_id=case.pk,
                    kind=LetterKind.SATISFACTION,
                    subject=draft.subject,
                    body_text=draft.body_text,
                    automatic=True,
                    dedupe_key=f"case:{case.pk}:satisfaction",
                )
                survey.save(update_fields=["letter"])
    except IntegrityError:
        # Asked before (a second beat run, a retried task): never twice.
        logger.info("case %s: satisfaction already asked", case)
        return SatisfactionSurvey.objects.get(case=case)
    logger.info("case %s: satisfaction asked (%s)", case, "e-mail" if survey.letter_id else "private page only")
    return survey


def surveys_send(*, today: datetime.date | None = None) -> int:
    """Beat's daily run: ask every case that is due; one failure does not stop the rest."""
    asked = 0
    for case_id in surveys_due(today=today):
        try:
            asked += survey_ask(case_id=case_id) is not None
        except Exception:
            logger.exception("satisfaction question for case %s failed; tried again tomorrow", case_id)
    return asked


def survey_answer(*, case_id: int, score: int, reason: str = "") -> SatisfactionSurvey:
    """The citizen's score (1–5) and why; once. Not satisfied (1 or 2): a reopen request for the officer."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        refuse(ValidationError({"score": texts.SATISFACTION_SCORE}), "satisfaction", case_id)
    with transaction.atomic():
        survey = SatisfactionSurvey.objects.select_for_update().filter(case_id=case_id).first()
        if survey is None:
            refuse(WorkflowError(texts.SATISFACTION_NOT_ASKED), "satisfaction", case_id)
        if survey.answered_at is not None:
            refuse(WorkflowError(texts.SATISFACTION_ALREADY), "satisfaction", case_id)
        survey.score = score
        survey.reason = (reason or "").strip()
        survey.answered_at = timezone.now()
        survey.save(update_fields=["score", "reason", "answered_at"])
        CaseEvent.objects.create(
            case_id=case_id, kind=EventKind.MESSAGE_IN, name="satisfaction", note=f"{score}/5. {survey.reason}".strip(), data={"score": score}
        )
        if score <= NOT_SATISFIED:
            ReopenRequest.objects.create(case_id=case_id, survey=survey)
            CaseEvent.objects.create(case_id=case_id, kind=EventKind.NOTE, name="reopen_requested", note=survey.reason, data={"score": score})
    logger.info("case %s: satisfaction %s/5%s", case_id, score, "; reopen request" if score <= NOT_SATISFIED else "")
    return survey
