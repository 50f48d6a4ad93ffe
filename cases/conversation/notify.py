"""Telling the officer that the citizen answered: one short e-mail to the case's handler (or, for a
case without one, nothing: the reply waits in *Gesprekken*, "Antwoorden om te lezen").

Queued after the answer commits (``cases.dispatch.NOTIFY_REPLY``); the question is marked notified
before the mail goes, so a retried task never mails twice (at most once, like the outbox's claim).
The mail names the case number only — no text of the citizen's — and links to the case page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases import dispatch
from cases.models import Case, CaseEvent, CaseState, CitizenQuestion, EventKind, QuestionStatus
from cms.roles import QUALITY_OFFICERS

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


# --- a mail about a closed case -----------------------------------------------------------------------

CLOSED_REPLY_TOLD = "closed_reply_told"


def closed_reply_notify_later(*, case_id: int, inbound_id: int) -> None:
    """A threaded mail about a closed case ("ik ben het er niet mee eens") is not left as a note nobody
    reads: after it commits, the handler (or, without one, the quality officers) is told."""
    if Case.objects.filter(pk=case_id, state=CaseState.CLOSED).exists():
        dispatch.enqueue_on_commit(dispatch.NOTIFY_CLOSED_REPLY, case_id, inbound_id, robust=True)


def closed_reply_notify(*, case_id: int, inbound_id: int) -> str:
    """Mail who handles the case that the citizen wrote after it closed; ``"sent"``, ``"nobody"`` or
    ``"already"`` (marked on the timeline before the mail goes: a retried task never mails twice)."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("registration", "assigned_to").get(pk=case_id)
        if CaseEvent.objects.filter(case=case, name=CLOSED_REPLY_TOLD, data__inbound=inbound_id).exists():
            return "already"
        handler = case.assigned_to if case.assigned_to is not None and case.assigned_to.email and case.assigned_to.is_active else None
        recipients = [handler.email] if handler else _quality_officers()
        if not recipients:
            logger.warning("mail %s about closed case %s: nobody to tell (no handler, no quality officer with an e-mail address)", inbound_id, case)
            return "nobody"
        CaseEvent.objects.create(
            case=case, kind=EventKind.NOTE, name=CLOSED_REPLY_TOLD, internal=True, data={"inbound": inbound_id},
            note=f"De indiener schreef na het sluiten van de zaak; {'de behandelaar' if handler else 'de kwaliteitsmedewerkers'} kreeg bericht.",
        )
    number = case.registration.number
    link = settings.BASE_URL.rstrip("/") + reverse("handvest_workspace:case", args=[case_id])
    send_mail(
        subject=f"E-mail van de indiener over gesloten zaak {number}",
        message=(
            f"De indiener van zaak {number} heeft gemaild nadat de zaak gesloten is. Lees de e-mail in de zaak en beoordeel "
            f"of er iets moet gebeuren (heropenen, een antwoord, de weg naar de ombudsman):\n{link}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    logger.info("told %s recipient(s) that the citizen of closed case %s wrote (mail %s)", len(recipients), number, inbound_id)
    return "sent"


def _quality_officers() -> list[str]:
    users = get_user_model().objects.filter(groups__name=QUALITY_OFFICERS, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
