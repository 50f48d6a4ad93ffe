"""The conversation as the citizen reads it on the private page: what waits for them first (open
questions, a request to wait longer, the satisfaction question), then every message both ways in
order, in plain Dutch. Internal notes never appear here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cases.conversation.forms import ConsentForm, ReplyForm, SatisfactionForm
from cases.models import (
    LEFT_STATUSES,
    Attachment,
    Case,
    CaseState,
    CitizenQuestion,
    ComplaintOutcome,
    ConsentRequest,
    ConsentStatus,
    InboundMessage,
    InboundOutcome,
    LetterKind,
    OmbudsmanSettings,
    OutgoingMessage,
    QuestionStatus,
    SatisfactionSurvey,
)

CHANNEL_WORDS = {"web": "via deze pagina", "email": "per e-mail", "letter": "per brief", "phone": "per telefoon", "post": "per post"}  # shown through gettext


@dataclass(frozen=True)
class Entry:
    """One message of the conversation: ``direction`` 'in' (from the citizen) or 'out' (from us)."""

    at: datetime.datetime
    direction: str
    title: str
    how: str
    text: str = ""
    letter: OutgoingMessage | None = None
    attachments: list[Attachment] = field(default_factory=list)


def _how(channel: str) -> str:
    return _(CHANNEL_WORDS[channel]) if channel in CHANNEL_WORDS else ""


def _letters(case: Case) -> list[Entry]:
    entries = []
    for letter in OutgoingMessage.objects.filter(case=case, status__in=LEFT_STATUSES).order_by("created_at", "pk"):
        entries.append(
            Entry(
                at=letter.sent_at or letter.posted_at or letter.created_at,
                direction="out",
                title=capfirst(str(LetterKind(letter.kind).label)),
                how=_how(letter.channel),
                text=letter.body_text,
                letter=letter,
            )
        )
    return entries


def _answers(case: Case) -> list[Entry]:
    entries = []
    for question in CitizenQuestion.objects.filter(case=case, status=QuestionStatus.ANSWERED).prefetch_related("attachments"):
        entries.append(
            Entry(
                at=question.answered_at,
                direction="in",
                title=_("Uw antwoord op onze vraag"),
                how=_how(question.answer_channel),
                text=question.answer_text,
                attachments=list(question.attachments.all()),
            )
        )
    return entries


def _emails(case: Case) -> list[Entry]:
    """The citizen's own e-mails that joined the case (not the ones taken as an answer: those stand as answers).

    Only mail from the address the case was registered with (``from_sender``, decided when it joined):
    anyone can put a registration number in a subject, and the reply of a citizen whose case was merged
    into this one is theirs, not this citizen's. Such mail is on the officer's timeline (marked as from
    another sender), never on this page.
    """
    answers = CitizenQuestion.objects.filter(case=case, answer_inbound__isnull=False).values("answer_inbound")
    mails = (
        InboundMessage.objects.filter(case=case, outcome=InboundOutcome.THREAD, from_sender=True)
        .exclude(pk__in=answers)
        .prefetch_related("attachments")
    )
    return [
        Entry(at=mail.received_at, direction="in", title=_("Uw e-mail"), how=_how("email"), text=mail.text, attachments=list(mail.attachments.all()))
        for mail in mails
    ]


def _consents(case: Case) -> list[Entry]:
    entries = []
    for consent in ConsentRequest.objects.filter(case=case, status__in=[ConsentStatus.AGREED, ConsentStatus.REFUSED]):
        answer = _("Ja, ik ga akkoord met meer tijd.") if consent.status == ConsentStatus.AGREED else _("Nee, ik ga niet akkoord met meer tijd.")
        text = f"{answer}\n{consent.note}".strip()
        entries.append(
            Entry(
                at=consent.answered_at,
                direction="in",
                title=_("Uw antwoord: mogen wij meer tijd nemen?"),
                how=_how(consent.answer_channel),
                text=text,
            )
        )
    return entries


def _satisfaction(case: Case) -> list[Entry]:
    survey = SatisfactionSurvey.objects.filter(case=case, answered_at__isnull=False).first()
    if survey is None:
        return []
    text = (_("Uw cijfer: %(score)s van 5.") % {"score": survey.score} + "\n" + survey.reason).strip()
    return [Entry(at=survey.answered_at, direction="in", title=_("Uw mening over hoe wij uw melding behandelden"), how=_how("web"), text=text)]


def _original(case: Case) -> Entry:
    registration = case.registration
    at = datetime.datetime.combine(registration.received_on, datetime.time.min, tzinfo=datetime.UTC)
    return Entry(
        at=min(at, registration.registered_at), direction="in", title=_("Uw %(kind)s") % {"kind": case.get_kind_display()}, how="", text=registration.text
    )


def conversation_entries(case: Case) -> list[Entry]:
    """Every message both ways, oldest first; the citizen's own message opens it."""
    entries = [*_letters(case), *_emails(case), *_answers(case), *_consents(case), *_satisfaction(case)]
    entries.sort(key=lambda entry: entry.at)
    return [_original(case), *entries]


def open_questions(case: Case) -> list[tuple[CitizenQuestion, ReplyForm]]:
    """The questions that wait for the citizen, each with its reply form (oldest first)."""
    return [(question, ReplyForm(key=str(question.pk))) for question in CitizenQuestion.objects.filter(case=case, status=QuestionStatus.OPEN)]


def pending_consents(case: Case) -> list[tuple[ConsentRequest, ConsentForm]]:
    """Requests to wait longer that the citizen has not answered yet, each with its form."""
    return [(consent, ConsentForm(key=str(consent.pk))) for consent in ConsentRequest.objects.filter(case=case).awaiting(timezone.localdate())]


def next_place(case: Case) -> OmbudsmanSettings | None:
    """Awb 9:18: after our answer to a complaint, where the complainant can go next."""
    ended_by_us = case.outcome not in (ComplaintOutcome.WITHDRAWN, ComplaintOutcome.FORWARDED)
    if case.is_complaint() and case.state in (CaseState.ANSWERED, CaseState.CLOSED) and ended_by_us:
        return OmbudsmanSettings.current()
    return None


def citizen_conversation(case: Case) -> dict:
    """What the private page shows of the conversation: what waits for the citizen first, then every message."""
    questions, consents = open_questions(case), pending_consents(case)
    survey = SatisfactionSurvey.objects.filter(case=case, answered_at__isnull=True).first()
    entries = conversation_entries(case)
    return {
        "open_questions": questions,
        "pending_consents": consents,
        "survey_form": SatisfactionForm() if survey is not None else None,
        "entries": entries,
        "letters_sent": any(entry.letter is not None for entry in entries),
        "ombudsman": next_place(case),
        "waiting_count": len(questions) + len(consents) + (survey is not None),
    }
