"""Composing letters: the templates of each letter kind filled for a case, as a draft the officer edits.

Dutch text lives in ``templates/letters/<kind>/``; a municipality overrides any of it through
``HANDVEST_TEMPLATE_DIRS`` (``templates/letters/README.md``). Plain-text letters are rendered
without HTML escaping; the PDF (``cases.correspondence.pdf``) goes through the escaping engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseState, ComplaintOutcome, LetterKind, OmbudsmanSettings, SuggestionOutcome
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)

UNKNOWN_KIND = _("Onbekende soort brief: %(kind)s.")
KIND_DOES_NOT_FIT = _("Een %(letter)s past niet bij een %(case_kind)s.")

# Formal letters go as a PDF attachment too: they are decisions the citizen may want to keep or forward.
FORMAL_KINDS = frozenset({LetterKind.ANSWER, LetterKind.DECLINE})
COMPLAINT_ONLY = frozenset({LetterKind.HEARING_INVITATION, LetterKind.FORWARD_NOTICE, LetterKind.DECLINE, LetterKind.EXPLANATION, LetterKind.ANSWER})
SUGGESTION_ONLY = frozenset({LetterKind.SUGGESTION_RESPONSE})
# A letter that tells the citizen a step was taken goes only once the case stands where that step leads (in the
# step's own transaction, ``case_step_with_letter``, or afterwards): an answer sent on its own would leave the case
# unanswered, its term running and its hearing (Awb 9:10) skipped.
LETTER_STATES = {
    LetterKind.ANSWER: (CaseState.ANSWERED, CaseState.CLOSED),
    LetterKind.SUGGESTION_RESPONSE: (CaseState.RESPONDED, CaseState.CLOSED),
    LetterKind.DECLINE: (CaseState.CLOSED,),
    LetterKind.FORWARD_NOTICE: (CaseState.CLOSED,),
}
LETTER_NEEDS_STEP = _("Een %(letter)s gaat mee met zijn stap onder 'Acties' (de zaak is nu '%(state)s'). Er is niets verstuurd.")


@dataclass(frozen=True)
class Letter:
    """A composed letter: the officer edits ``subject`` and ``body_text`` before it goes."""

    kind: str
    subject: str
    body_text: str


@lru_cache(maxsize=8)
def _text_engine(dirs: tuple[str, ...]) -> Engine:
    # Plain-text letters must not be HTML-escaped ("O'Brien" stays "O'Brien"); the HTML of the PDF
    # goes through Django's normal, escaping engine. Same folders, so overrides work for both.
    return Engine(dirs=list(dirs), app_dirs=True, autoescape=False)


def render_text(name: str, context: dict) -> str:
    """Render a plain-text template (no HTML escaping), Dutch, from the overridable template folders."""
    dirs = tuple(str(folder) for folder in settings.TEMPLATES[0]["DIRS"])
    with translation.override(settings.LANGUAGE_CODE):
        return _text_engine(dirs).get_template(name).render(Context(context, autoescape=False))


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one empty line in a row (template tags leave blank lines)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    tidy: list[str] = []
    for line in lines:
        if not line and (not tidy or not tidy[-1]):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip()


def private_link(case: Case) -> str:
    """The citizen's private page of the case, as an absolute URL."""
    return settings.BASE_URL.rstrip("/") + reverse("cases:case_status", kwargs={"token": case.public_token})


def one_line(text: str) -> str:
    return ", ".join(part.strip() for part in (text or "").splitlines() if part.strip())


def letter_context(*, case: Case, **extra) -> dict:
    """What every letter template can use; ``extra`` adds or overrides (e.g. ``findings`` of an answer)."""
    registration = case.registration
    municipality = MunicipalitySettings.current()
    outcome = extra.pop("outcome", None) or case.outcome
    outcome_label = ""
    if outcome in ComplaintOutcome.values:
        outcome_label = ComplaintOutcome(outcome).label
    elif outcome in SuggestionOutcome.values:
        outcome_label = SuggestionOutcome(outcome).label
    context = {
        "case": case,
        "registration": registration,
        "municipality": municipality,
        "municipality_postal_address": one_line(municipality.postal_address),
        "number": registration.number,
        "received_on": registration.received_on,
        "name": registration.sender_name.strip(),
        "today": timezone.localdate(),
        "is_complaint": case.is_complaint(),
        "kind_word": _("klacht") if case.is_complaint() else _("suggestie"),
        "acknowledgement_due": case.acknowledgement_due,
        "answer_due": case.effective_answer_due,
        "original_answer_due": case.answer_due,
        "new_due": case.extended_answer_due,
        "reason": case.extension_reason,
        "hearing_on": case.hearing_on,
        "forwarded_to": case.forwarded_to,
        "decline_ground": case.get_decline_ground_display() if case.decline_ground else "",
        "outcome": outcome or "",
        "outcome_label": outcome_label,
        "private_link": private_link(case),
        # Where to go after our answer (Awb 9:12 lid 2, 9:18): the Nationale or the municipality's own ombudsman.
        "ombudsman": OmbudsmanSettings.current(),
    }
    context.update(extra)
    return context


def check_kind(kind: str) -> LetterKind:
    try:
        return LetterKind(kind)
    except ValueError:
        logger.warning("unknown letter kind %r", kind)
        raise ValidationError({"kind": UNKNOWN_KIND % {"kind": kind}}) from None


def check_fits(case: Case, kind: LetterKind) -> None:
    wrong = (kind in COMPLAINT_ONLY and not case.is_complaint()) or (kind in SUGGESTION_ONLY and not case.is_suggestion())
    if wrong:
        logger.warning("letter %s does not fit %s case %s", kind, case.kind, case)
        raise ValidationError({"kind": KIND_DOES_NOT_FIT % {"letter": kind.label, "case_kind": case.get_kind_display()}})


def fits_state(case: Case, kind: str) -> bool:
    return case.state in LETTER_STATES.get(kind, (case.state,))


def check_state(case: Case, kind: LetterKind) -> None:
    if not fits_state(case, kind):
        logger.warning("letter %s refused for %s in state %s: it goes with its step", kind, case, case.state)
        raise ValidationError({"kind": LETTER_NEEDS_STEP % {"letter": kind.label, "state": case.get_state_display()}})


def subject_with_number(subject: str, number: str) -> str:
    """One line, with the registration number in it (so replies thread by subject too)."""
    subject = " ".join(subject.split())
    if number not in subject:
        subject = f"{subject} ({number})"
    return subject[:300]


def letter_compose(*, case: Case, kind: str, **extra) -> Letter:
    """Fill the templates of ``kind`` for this case: the draft an officer edits before it goes.

    What the template cannot know (findings, the time of a hearing, ...) comes from ``extra``;
    when missing, the text keeps an ``[[ ... ]]`` place to fill, which :func:`letter_queue` refuses.
    """
    letter_kind = check_kind(kind)
    check_fits(case, letter_kind)
    context = letter_context(case=case, **extra)
    subject = render_text(f"letters/{letter_kind.value}/subject.txt", context)
    body = render_text(f"letters/{letter_kind.value}/body.txt", context)
    return Letter(kind=letter_kind.value, subject=subject_with_number(subject, context["number"]), body_text=tidy_text(body))
