"""Composing a letter from its template, with a preview of the e-mail or the PDF, on the case page.

A letter that belongs to a step (the acknowledgement, the explanation, the answer, ...) goes in
the same transaction as the step (``case_step_with_letter``): both happen, or neither. Other
letters go on their own (``letter_queue``). The officer edits the draft that ``letter_compose``
fills from ``templates/letters/<kind>/``, previews it as e-mail or PDF, and sends it.

The correspondence services (``cases.correspondence``) do the work.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from cases import errors
from cases.correspondence.composing import fits_state, letter_compose, subject_with_number
from cases.correspondence.delivery import email_for, outgoing_requeue
from cases.correspondence.outbox import delivery_channel, letter_queue
from cases.correspondence.pdf import letter_render_pdf
from cases.correspondence.steps import STEP_LETTERS, case_step_with_letter
from cases.errors import CaseConflict
from cases.models import CONVERSATION_LETTER_KINDS, Case, DeclineGround, Kind, LetterKind, OutgoingMessage
from cases.records.read_log import record_read
from cases.workspace import forms as wf
from cases.workspace.actions import just_taken, run_action
from cases.workspace.inbox import crumbs
from cases.workspace.roles import handles_cases

logger = logging.getLogger(__name__)

COMPLAINT_LETTERS = [k for k in LetterKind if k not in (LetterKind.SUGGESTION_RESPONSE,) and k not in CONVERSATION_LETTER_KINDS]
SUGGESTION_LETTERS = [LetterKind.ACKNOWLEDGEMENT, LetterKind.INTERIM_NOTICE, LetterKind.SUGGESTION_RESPONSE, LetterKind.OTHER]

COMPOSER_UNAVAILABLE = _("Brieven opstellen kan nog niet: de briefsjablonen ontbreken op deze server.")
DONE_SENT = _("%(letter)s staat klaar om te versturen %(how)s.")
DONE_STEP_AND_LETTER = _("%(step)s: gelukt, en %(letter)s gaat %(how)s.")
DONE_ALREADY = _("%(step)s: gelukt; de brief staat onder 'Brieven'.")
DONE_REQUEUED = _("Het bericht staat weer in de wachtrij.")
STEP_PARAMETERS = ("officer", "on", "outcome", "ground", "to")
HOW = {"email": _("per e-mail"), "post": _("per post (PDF-brief in de printwachtrij)")}


def letter_kinds(case: Case) -> list[LetterKind]:
    """The letters an officer may write on their own now; a step's letter (the answer, a decline) only once its step was taken."""
    kinds = SUGGESTION_LETTERS if case.kind == Kind.SUGGESTION else COMPLAINT_LETTERS
    return [kind for kind in kinds if fits_state(case, kind)]


class LetterForm(forms.Form):
    expected_state = forms.CharField(widget=forms.HiddenInput)
    kind = forms.CharField(widget=forms.HiddenInput)
    step = forms.CharField(widget=forms.HiddenInput, required=False)
    subject = forms.CharField(label=_("Onderwerp"), max_length=300)
    body_text = forms.CharField(label=_("Tekst"), widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "true"}))
    note = forms.CharField(label=_("Toelichting bij de stap (intern)"), required=False, widget=forms.HiddenInput)


def composer_context(request, case: Case) -> dict | None:
    """What the case page needs to offer a letter: the kinds to choose from; None when unavailable."""
    if case.merged_into_id is not None:
        return None
    return {
        "kinds": [(k.value, k.label) for k in letter_kinds(case)],
        "step_letters": {name: kind.value for name, kind in STEP_LETTERS.items()},
        "in_writing": wf.STEPS_IN_WRITING,
    }


def _step_params(step: str, source) -> tuple[dict, dict]:
    """The step's parameters from the request (validated by its form), and what the letter template needs of them."""
    if not step:
        return {}, {}
    form = wf.TransitionForm(source, transition=step)
    for carried in ("expected_state", "name"):  # checked by the service and the step, not here
        form.fields[carried].required = False
    if not form.is_valid():
        raise ValidationError(" ".join(str(m) for errs in form.errors.values() for m in errs))
    params = form.params()
    extra = {}
    if "on" in params:
        extra["hearing_on"] = params["on"]
    if "ground" in params:
        extra["decline_ground"] = DeclineGround(params["ground"]).label
    if "to" in params:
        extra["forwarded_to"] = params["to"]
    if "outcome" in params:
        extra["outcome"] = params["outcome"]
    return params, extra


def _delivery(case: Case) -> dict:
    channel, reason = delivery_channel(case.registration)
    return {"channel": channel, "how": HOW.get(channel, channel), "reason": reason}


def _email_preview(case: Case, kind: str, subject: str, body_text: str):
    message = OutgoingMessage(
        case=case,
        kind=kind,
        channel="email",
        to_email=case.registration.sender_email,
        to_name=case.registration.sender_name,
        subject=subject_with_number(subject, case.registration.number),
        body_text=body_text,
        message_id="<voorbeeld@handvest>",
    )
    return email_for(message, case)


def _draft_initial(case: Case, *, kind: str, step: str, extra: dict, note: str) -> dict:
    draft = letter_compose(case=case, kind=kind, **extra)
    return {"expected_state": case.state, "kind": kind, "step": step, "subject": draft.subject, "body_text": draft.body_text, "note": note}


def _refusal(exc: Exception) -> str:
    if isinstance(exc, TemplateDoesNotExist):
        logger.error("letter templates missing: %s", exc)
        return str(COMPOSER_UNAVAILABLE)
    return " ".join(exc.messages)


@require_http_methods(["GET", "POST"])
@handles_cases
def compose(request, pk: int):
    """Brief opstellen: the draft from the template, editable, with previews; sending is a POST."""
    case = get_object_or_404(Case.objects.select_related("registration"), pk=pk)
    record_read(request, case, case.registration)  # the draft, its previews and the PDF show the citizen's name and address
    detail_url = reverse("handvest_workspace:case", args=[case.pk])
    source = request.POST if request.method == "POST" else request.GET
    # From the case page the step arrives as "name" (its transition form), afterwards as "step".
    step = source.get("step") or source.get("name", "")
    step = step if step in STEP_LETTERS else ""
    kind = source.get("kind") or STEP_LETTERS.get(step, "")
    typed = request.method == "POST" and "subject" in request.POST
    conflict = bool(source.get("expected_state")) and source.get("expected_state") != case.state
    if conflict and typed and step and just_taken(case, name=step, user=request.user, from_state=source["expected_state"]):
        # The second click of a double click on "Versturen": the first took the step and wrote its letter.
        messages.success(request, DONE_ALREADY % {"step": wf.TRANSITION_LABELS[step]})
        return redirect(f"{detail_url}#brieven")
    if conflict:
        messages.error(request, errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
        if not typed:
            return redirect(f"{detail_url}#acties")
    try:
        params, extra = _step_params(step, source)
        if typed:
            # A colleague moved the case while the letter was written: it comes back, not sent, to read again.
            form = LetterForm(_with_state(request.POST, case.state) if conflict else request.POST)
        else:
            form = LetterForm(initial=_draft_initial(case, kind=kind, step=step, extra=extra, note=source.get("note", "")))
    except (ValidationError, TemplateDoesNotExist) as exc:
        messages.error(request, _refusal(exc))
        return redirect(f"{detail_url}#acties")

    preview = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        action = "preview" if conflict else request.POST.get("action", "preview")
        if action == "pdf":
            return _pdf_preview(case, data)
        if action == "send":
            if run_action(request, lambda: _send(request, case, data, params), what=f"letter {kind} on {case}"):
                return redirect(f"{detail_url}#brieven")
        else:
            email = _email_preview(case, data["kind"], data["subject"], data["body_text"])
            preview = {"to": ", ".join(email.to), "subject": email.subject, "body": email.body}
    context = {"form": form, "kind": kind, "step": step, "source": source, "detail_url": detail_url, "preview": preview}
    return render(request, "cases/admin/workspace/compose.html", _page_context(case, **context))


def _with_state(data, state: str):
    data = data.copy()
    data["expected_state"] = state
    return data


def _page_context(case: Case, *, form, kind: str, step: str, source, detail_url: str, preview) -> dict:
    return {
        "header_title": _("Brief opstellen"),
        "header_icon": "mail",
        "breadcrumbs_items": crumbs((detail_url, case.registration.number), ("", _("Brief"))),
        "case": case,
        "form": form,
        "kind_label": LetterKind(kind).label if kind in LetterKind.values else kind,
        "step": step,
        "step_label": wf.TRANSITION_LABELS.get(step, ""),
        "param_items": [(key, value) for key, value in source.items() if key in STEP_PARAMETERS],
        "delivery": _delivery(case),
        "preview": preview,
    }


def _send(request, case: Case, data: dict, params: dict) -> str:
    how = _delivery(case)["how"]
    kind_label = LetterKind(data["kind"]).label
    if data["step"]:
        case_step_with_letter(
            case_id=case.pk,
            name=data["step"],
            kind=data["kind"],
            subject=data["subject"],
            body_text=data["body_text"],
            actor=request.user,
            expected_state=data["expected_state"],
            note=data["note"],
            **params,
        )
        return DONE_STEP_AND_LETTER % {"step": wf.TRANSITION_LABELS[data["step"]], "letter": kind_label, "how": how}
    if case.state != data["expected_state"]:
        raise CaseConflict(errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
    letter_queue(case_id=case.pk, kind=data["kind"], subject=data["subject"], body_text=data["body_text"], actor=request.user)
    return DONE_SENT % {"letter": str(kind_label).capitalize(), "how": how}


def _pdf_preview(case: Case, data: dict):
    pdf = letter_render_pdf(case=case, subject=data["subject"], body_text=data["body_text"], kind=data["kind"])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="voorbeeld-{case.registration.number}-{data["kind"]}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@handles_cases
def requeue(request, pk: int):
    """Send a failed or suppressed letter again (e.g. after the address was corrected)."""
    letter = get_object_or_404(OutgoingMessage, pk=pk)

    def again() -> str:
        outgoing_requeue(outgoing_id=letter.pk, actor=request.user)
        return str(DONE_REQUEUED)

    run_action(request, again, what=f"requeue of letter {letter.pk}")
    return redirect(f"{reverse('handvest_workspace:case', args=[letter.case_id])}#brieven")


urlpatterns = [
    path("<int:pk>/brief/", compose, name="compose"),
    path("brief/<int:pk>/opnieuw/", requeue, name="letter_requeue"),
]
