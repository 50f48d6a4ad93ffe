"""The citizen's side of the conversation, on the private page: answer a question, agree to wait
longer, give a score. Reached only through the unguessable private link; an unknown or revoked
link, or a question of another case, gets the same plain 404. Nothing is cached or indexed.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases.conversation import texts
from cases.conversation.consent import consent_answer, consent_answerable
from cases.conversation.forms import ConsentForm, ReplyForm, SatisfactionForm
from cases.conversation.questions import question_reply_web
from cases.conversation.satisfaction import survey_answer
from cases.errors import WorkflowError
from cases.intake.uploads import files_again
from cases.models import Case, CitizenQuestion, ConsentRequest, ConsentStatus, QuestionStatus, SatisfactionSurvey

logger = logging.getLogger(__name__)


def citizen_case(token: str) -> Case:
    """The case of a private link, or 404 (unknown and revoked links look the same)."""
    case = Case.objects.select_related("registration").filter(public_token=token, public_token_revoked=False).first()
    if case is None:
        raise Http404
    return case


def private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin, not no-referrer: the link never leaves the site, and the browser still sends the
    # Origin header that Django's CSRF check needs for the conversation's forms (no-referrer makes it "null").
    response["Referrer-Policy"] = "same-origin"
    return response


def back_to_page(case: Case, done: str) -> HttpResponse:
    return redirect(f"{reverse('cases:case_status', kwargs={'token': case.public_token})}?verstuurd={done}#verstuurd")  # the thank-you notice, at the top


def problems_of(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(message) for message in exc.messages]
    return [str(exc)]


@require_http_methods(["GET", "POST"])
@never_cache
def question_reply(request, token: str, pk: int):
    """Answer an open question of this case: text and attachments (the web form's upload rules)."""
    case = citizen_case(token)
    question = CitizenQuestion.objects.filter(pk=pk, case=case).first()
    # A withdrawn question is not shown again; a reply posted to it (a page left open) is still kept.
    if question is None or (question.status == QuestionStatus.WITHDRAWN and request.method != "POST"):
        raise Http404
    form, problems = ReplyForm(key=str(question.pk)), []
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES, key=str(question.pk))
        if form.is_valid():
            try:
                added = question_reply_web(
                    case_id=case.pk, question_id=question.pk, text=form.cleaned_data["text"], uploads=form.cleaned_data["attachments"]
                )
            except (ValidationError, WorkflowError) as exc:
                problems = problems_of(exc)
            else:
                return back_to_page(case, "aanvulling" if added else "antwoord")
        else:
            logger.info("reply to question %s of %s returned with errors in %s", question.pk, case, ", ".join(sorted(form.errors)))
    files_note = files_again(form) if (problems or form.errors) and request.FILES and "attachments" not in form.errors else ""
    context = {"case": case, "question": question, "form": form, "problems": problems, "files_note": files_note}
    return private(render(request, "cases/conversation/reply.html", context, status=400 if (problems or form.errors) else 200))


@require_http_methods(["GET", "POST"])
@never_cache
def consent_reply(request, token: str, pk: int):
    """Agree or not with waiting longer (Awb 9:11 lid 3); a pending request of this case only."""
    case = citizen_case(token)
    consent = ConsentRequest.objects.filter(pk=pk, case=case).first()
    if consent is None:
        raise Http404
    form, problems = ConsentForm(key=str(consent.pk)), []
    if request.method == "POST" and consent.status == ConsentStatus.PENDING:
        form = ConsentForm(request.POST, key=str(consent.pk))
        if form.is_valid():
            try:
                consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=form.cleaned_data["answer"] == "agreed", note=form.cleaned_data["note"])
            except (ValidationError, WorkflowError) as exc:
                problems = problems_of(exc)
            else:
                return back_to_page(case, "instemming")
        else:
            logger.info("consent answer %s of %s returned with errors", consent.pk, case)
    context = {
        "case": case, "consent": consent, "form": form, "problems": problems,
        "answerable": consent_answerable(consent), "expired_text": texts.CONSENT_EXPIRED,
    }
    return private(render(request, "cases/conversation/consent.html", context, status=400 if (problems or form.errors) else 200))


@require_http_methods(["GET", "POST"])
@never_cache
def satisfaction_reply(request, token: str):
    """How satisfied was the citizen (1–5), and why; once, only when we asked."""
    case = citizen_case(token)
    survey = SatisfactionSurvey.objects.filter(case=case).first()
    if survey is None:
        raise Http404
    form, problems = SatisfactionForm(), []
    if request.method == "POST" and survey.answered_at is None:
        form = SatisfactionForm(request.POST)
        if form.is_valid():
            try:
                survey_answer(case_id=case.pk, score=form.cleaned_data["score"], reason=form.cleaned_data["reason"])
            except (ValidationError, WorkflowError) as exc:
                problems = problems_of(exc)
            else:
                return back_to_page(case, "tevredenheid")
        else:
            logger.info("satisfaction of %s returned with errors", case)
    context = {"case": case, "survey": survey, "form": form, "problems": problems}
    return private(render(request, "cases/conversation/satisfaction.html", context, status=400 if (problems or form.errors) else 200))
