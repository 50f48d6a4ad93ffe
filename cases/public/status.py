"""The citizen's private page of their case: where it stands, what happens next, and every letter
we sent (to read again as PDF), with the outcome and the answer once there is one.

Reached only through the unguessable private link; an unknown or revoked token gets the same
plain 404, and the page is never indexed or cached.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.conversation.timeline import citizen_conversation
from cases.correspondence.pdf import letter_render_pdf, pdf_filename
from cases.models import LEFT_STATUSES, Case, CaseState, ComplaintOutcome, EventKind, LetterKind, OutgoingMessage, WebSubmission
from cases.workflow.deadlines import charter_terms
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)

DEADLINE_TEXT = {"acknowledgement": "Ontvangstbevestiging uiterlijk", "answer": "Antwoord uiterlijk"}
ANSWER_KINDS = (LetterKind.ANSWER, LetterKind.SUGGESTION_RESPONSE, LetterKind.DECLINE, LetterKind.FORWARD_NOTICE, LetterKind.EXPLANATION)


def _case(token: str) -> Case | None:
    return Case.objects.select_related("registration").filter(public_token=token, public_token_revoked=False).first()


def _case_or_404(token: str) -> Case:
    case = _case(token)
    if case is None:
        raise Http404
    return case


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin, not no-referrer: the link never leaves the site, and the browser still sends the
    # Origin header that Django's CSRF check needs for the conversation's forms (no-referrer makes it "null").
    response["Referrer-Policy"] = "same-origin"
    return response


# A closed case's text depends on how it ended: forwarded or declined is not "afgehandeld" as an answer is.
CLOSED_BY_OUTCOME = {
    ComplaintOutcome.RESOLVED_INFORMALLY: "resolved",
    ComplaintOutcome.FORWARDED: "forwarded",
    ComplaintOutcome.DECLINED: "declined",
    ComplaintOutcome.WITHDRAWN: "withdrawn",
}
# The officers' labels name the Awb's articles; the citizen reads what happened, in plain Dutch (B1).
CITIZEN_OUTCOME_LABELS = {
    ComplaintOutcome.RESOLVED_INFORMALLY: "opgelost in overleg met u",
    ComplaintOutcome.FORWARDED: "doorgestuurd naar de organisatie die erover gaat",
    ComplaintOutcome.DECLINED: "niet in behandeling genomen",
}
CITIZEN_STATE_LABELS = {CaseState.HEARING: "gesprek gepland"}
MERGED_STATE_TEXT = "Wij behandelen uw melding samen met een andere melding over hetzelfde."


def next_step_template(case: Case) -> str:
    """The 'what happens next' text of the case's state (plain Dutch, B1): a template per state."""
    if case.merged_into_id is not None:
        return "cases/public/next/merged.html"  # no step is taken on it any more, and no letter goes from it
    state = case.state
    if state == CaseState.CLOSED:
        state = CLOSED_BY_OUTCOME.get(case.outcome, state)
        # A withdrawn suggestion has no outcome (there is none among a suggestion's); its closing step says it.
        if not case.outcome and _closed_by(case) == "withdraw":
            state = "withdrawn"
    return f"cases/public/next/{state}.html"


def _before_reopening(case: Case, letter: OutgoingMessage) -> bool:
    reopened = case.events.filter(kind=EventKind.TRANSITION, name__startswith="reopen").order_by("-at", "-pk").values_list("at", flat=True).first()
    return reopened is None or letter.created_at < reopened


def _closed_by(case: Case) -> str:
    """The name of the step that closed the case last (a reopened case may have been closed more than once)."""
    step = case.events.filter(kind=EventKind.TRANSITION, to_state=CaseState.CLOSED).order_by("-at", "-pk").values_list("name", flat=True).first()
    return step or ""


def _processing(request, submission: WebSubmission) -> HttpResponse:
    """A web form's submission whose worker has not registered it yet (``cases.intake.web_submissions``):
    its number and that it is being processed, instead of a 404 for a link the citizen just got."""
    context = {"number": submission.number, "received_on": timezone.localdate(submission.received_at)}
    return _private(render(request, "cases/public/processing.html", context))


@require_GET
@never_cache
def case_status(request, token: str):
    """The citizen's private link."""
    case = _case(token)
    if case is None:
        submission = WebSubmission.objects.filter(token=token).first()
        if submission is not None and submission.registration_id is None:
            return _processing(request, submission)
        # Registered between the two reads (the worker's commit): the case is there now.
        case = _case(token) if submission is not None else None
        if case is None:
            raise Http404
    letters = list(OutgoingMessage.objects.filter(case=case, status__in=LEFT_STATUSES).order_by("created_at", "pk"))
    answer = next((letter for letter in reversed(letters) if letter.kind in ANSWER_KINDS), None)
    merged = case.merged_into_id is not None
    # The term of the case's state (the answer): a call-back still owed was promised on the phone, not here.
    deadline = None if merged else case.term_deadline()
    context = {
        "case": case,
        "registration": case.registration,
        "state_text": MERGED_STATE_TEXT if merged else case.public_state_text(),
        "deadline": (DEADLINE_TEXT[deadline[0]], deadline[1]) if deadline else None,
        "letters": letters,
        "answer": answer,
        # Reopened and being handled again: the letter shown is the earlier answer, not the answer; a letter of
        # the new round (an explanation after the reopening) is the current one.
        "earlier_answer": answer is not None and case.reopened_answer_due is not None and not case.is_answered() and _before_reopening(case, answer),
        # The term passed without an answer: the page says so instead of promising a day in the past.
        "answer_late": not merged and not case.is_answered() and case.effective_answer_due < timezone.localdate(),
        "next_step": next_step_template(case),
        "state_label": CITIZEN_STATE_LABELS.get(case.state) or case.get_state_display(),
        "outcome_label": (CITIZEN_OUTCOME_LABELS.get(case.outcome) or case.get_outcome_display()) if case.outcome else "",
        "municipality": MunicipalitySettings.load(),
        # The conversation (cases.conversation): what waits for the citizen, and every message both ways.
        "conversation": citizen_conversation(case),
        "just_sent": request.GET.get("verstuurd", ""),
        "terms": charter_terms(),
    }
    return _private(render(request, "cases/case_status.html", context))


@require_GET
@never_cache
def letter_pdf(request, token: str, pk: int):
    """One of the citizen's letters as a PDF, to keep or print; only letters of this case that have left."""
    case = _case_or_404(token)
    letter = get_object_or_404(OutgoingMessage, pk=pk, case=case, status__in=LEFT_STATUSES)
    if letter.pdf:
        with letter.pdf.open("rb") as handle:
            pdf = handle.read()
    else:
        letter_date = timezone.localdate(letter.sent_at or letter.created_at)
        pdf = letter_render_pdf(case=case, subject=letter.subject, body_text=letter.body_text, kind=letter.kind, letter_date=letter_date)
    logger.info("letter %s of %s downloaded through the private link", letter.pk, case)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(letter, case)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)
