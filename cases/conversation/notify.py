"""Telling the officer that the citizen answered: one short e-mail to the case's handler (or, for a
case without one, nothing: the reply waits in *Gesprekken*, "Antwoorden om te lezen").

Queued after the answer commits (``cases.dispatch.NOTIFY_REPLY``); the question is marked notified
before the mail goes, so a retried task never mails twice (at most once, like the outbox's claim).
The mail names the case number only — no text of the citizen's — and links to the case page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases import dispatch
from cases.models import CitizenQuestion, QuestionStatus

logger = logging.getLogger(__name__)


def reply_notify_later(question_id: int) -> None:
    """Queue the officer's notification once the answer is committed; a broker that is down loses only this nudge."""
    dispatch.enqueue_on_commit(dispatch.NOTIFY_REPLY, question_id, robust=True)


def reply_notify(*, question_id: int) -> str:
    """Mail the handler of the case that the citizen answered; ``"sent"``, ``"no handler"`` or ``"already"``."""
    with transaction.atomic():
        question = CitizenQuestion.objects.select_for_update(of=("self",)).select_related("case__registration", "case__assigned_to").get(pk=question_id)
        if question.officer_notified_at is not None or question.status != QuestionStatus.ANSWERED:
            return "already"
        officer = question.case.assigned_to
        if officer is None or not officer.email:
            return "no handler"
        question.officer_notified_at = timezone.now()
        question.save(update_fields=["officer_notified_at"])
    number = question.case.registration.number
    link = settings.BASE_URL.rstrip("/") + reverse("handvest_workspace:case", args=[question.case_id]) + "#gesprek"
    send_mail(
        subject=f"Antwoord van de indiener op uw vraag ({number})",
        message=f"De indiener van zaak {number} heeft uw vraag beantwoord.\n\nLees het antwoord in de zaak:\n{link}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[officer.email],
    )
    logger.info("officer %s told that question %s of %s was answered", officer.get_username(), question_id, number)
    return "sent"
