"""The officer's side of the conversation: ask the citizen a question, record an answer that came
by letter or phone, mark a reply read, withdraw a question; and the queue page *Gesprekken* with
the cases waiting for the citizen and the replies to read.

Every change is a POST passed to a service in ``cases.conversation``; a refusal comes back as a
Dutch message (``actions.run_action``), and the officer lands back on the case with what was typed
still in the form (``drafts.draft_keep``, as for the case's own actions).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from cases.conversation import texts
from cases.conversation.consent import consent_answer, consent_request
from cases.conversation.ombudsman import ombudsman_findings, ombudsman_record
from cases.conversation.questions import question_answer, question_ask, question_mark_read, question_withdraw
from cases.conversation.reopening import reopen_decide
from cases.models import (
    AnswerChannel,
    Case,
    CaseState,
    CitizenQuestion,
    ConsentRequest,
    OmbudsmanKind,
    OmbudsmanReferral,
    QuestionStatus,
    ReopenRequest,
    ReopenStatus,
    SatisfactionSurvey,
)
from cases.workspace.actions import STALE_FORM, run_action
from cases.workspace.drafts import draft_keep
from cases.workspace.forms import DATE_FORMATS
from cases.workspace.inbox import crumbs
from cases.workspace.roles import handles_cases

DONE_ASKED = _("Uw vraag gaat %(how)s naar de indiener en staat op de eigen pagina.")
DONE_RECORDED = _("Het antwoord van de indiener is vastgelegd.")
DONE_WITHDRAWN = _("De vraag is ingetrokken.")
DONE_READ = _("Gelezen.")
DONE_OMBUDSMAN = _("Vastgelegd dat de indiener naar de ombudsman ging; de bewaartermijn is aangepast.")
DONE_FINDINGS = _("Bevindingen en maatregelen vastgelegd.")
DONE_REOPENED = _("De zaak is heropend; de indiener krijgt bericht.")
DONE_NOT_REOPENED = _("Vastgelegd: niet heropend. De indiener krijgt uw uitleg.")
DONE_CONSENT_ASKED = _("Het verzoek om instemming met uitstel tot %(date)s gaat naar de indiener.")
DONE_CONSENT_AGREED = _("De indiener stemt in: de antwoordtermijn is nu %(date)s.")
DONE_CONSENT_REFUSED = _("De indiener stemt niet in: de termijn blijft staan.")
HOW = {"email": _("per e-mail"), "post": _("per post (PDF-brief in de printwachtrij)")}


class AskForm(forms.Form):
    expected_state = forms.CharField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Uw vraag aan de indiener"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("In gewone taal (B1). De antwoordtermijn (Awb 9:11) loopt door terwijl u wacht."),
        error_messages={"required": texts.QUESTION_EMPTY},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_ask_%s")
        super().__init__(*args, **kwargs)


class RecordAnswerForm(forms.Form):
    question = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Ontvangen"), choices=[(AnswerChannel.LETTER, _("per brief")), (AnswerChannel.PHONE, _("telefonisch"))])
    text = forms.CharField(label=_("Het antwoord (samengevat of overgetypt)"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_record_%s")
        super().__init__(*args, **kwargs)


class QuestionForm(forms.Form):
    question = forms.IntegerField(widget=forms.HiddenInput)


class ConsentRequestForm(forms.Form):
    expected_state = forms.CharField(widget=forms.HiddenInput)
    proposed_due = forms.DateField(label=_("Nieuwe datum"), input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(
        label=_("Waarom duurt het langer?"), widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Dit staat in het verzoek aan de indiener.")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_consent_%s")
        super().__init__(*args, **kwargs)


class ConsentRecordForm(forms.Form):
    consent = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.ChoiceField(label=_("Antwoord van de indiener"), choices=[("agreed", _("akkoord")), ("refused", _("niet akkoord"))])
    channel = forms.ChoiceField(label=_("Ontvangen"), choices=[(AnswerChannel.LETTER, _("per brief")), (AnswerChannel.EMAIL, _("per e-mail"))])
    note = forms.CharField(label=_("Toelichting"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_consent_record_%s")
        super().__init__(*args, **kwargs)


class ReopenDecisionForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=_("Besluit"), choices=[("reopen", _("Heropenen")), ("decline", _("Niet heropenen"))], widget=forms.RadioSelect)
    explanation = forms.CharField(
        label=_("Toelichting aan de indiener"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Verplicht als u niet heropent.")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reopen_%s")
        super().__init__(*args, **kwargs)


class OmbudsmanForm(forms.Form):
    ombudsman = forms.ChoiceField(label=_("Naar"), choices=OmbudsmanKind.choices)
    submitted_on = forms.DateField(label=_("Ingediend op"), input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Toelichting (intern)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_ombudsman_%s")
        super().__init__(*args, **kwargs)


class FindingsForm(forms.Form):
    findings = forms.CharField(label=_("Bevindingen van de ombudsman"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    findings_on = forms.DateField(
        label=_("Datum rapport"), required=False, input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    measures = forms.CharField(label=_("Maatregelen van de gemeente"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_findings_%s")
        super().__init__(*args, **kwargs)


def _data(form: forms.Form) -> dict:
    if not form.is_valid():
        raise ValidationError(" ".join(str(e) for errs in form.errors.values() for e in errs) or STALE_FORM)
    return form.cleaned_data


def do_ask(request, case: Case) -> str:
    data = _data(AskForm(request.POST))
    question = question_ask(case_id=case.pk, text=data["text"], actor=request.user, expected_state=data["expected_state"])
    return DONE_ASKED % {"how": HOW.get(question.letter.channel, "")}


def do_record(request, case: Case) -> str:
    data = _data(RecordAnswerForm(request.POST))
    question_answer(case_id=case.pk, question_id=data["question"], text=data["text"], channel=data["channel"], actor=request.user)
    return DONE_RECORDED


def do_withdraw(request, case: Case) -> str:
    question_withdraw(case_id=case.pk, question_id=_data(QuestionForm(request.POST))["question"], actor=request.user)
    return DONE_WITHDRAWN


def do_read(request, case: Case) -> str:
    question_mark_read(question_id=_data(QuestionForm(request.POST))["question"], actor=request.user)
    return DONE_READ


def do_consent_request(request, case: Case) -> str:
    data = _data(ConsentRequestForm(request.POST))
    consent = consent_request(
        case_id=case.pk, proposed_due=data["proposed_due"], reason=data["reason"], actor=request.user, expected_state=data["expected_state"]
    )
    return DONE_CONSENT_ASKED % {"date": f"{consent.proposed_due:%d-%m-%Y}"}


def do_consent_record(request, case: Case) -> str:
    data = _data(ConsentRecordForm(request.POST))
    consent = consent_answer(
        case_id=case.pk, consent_id=data["consent"], agreed=data["answer"] == "agreed", channel=data["channel"], note=data["note"], actor=request.user
    )
    return DONE_CONSENT_AGREED % {"date": f"{consent.proposed_due:%d-%m-%Y}"} if consent.applied else DONE_CONSENT_REFUSED


def do_reopen(request, case: Case) -> str:
    data = _data(ReopenDecisionForm(request.POST))
    decided = reopen_decide(
        case_id=case.pk, request_id=data["request"], reopen=data["decision"] == "reopen", explanation=data["explanation"], actor=request.user
    )
    return DONE_REOPENED if decided.status == ReopenStatus.REOPENED else DONE_NOT_REOPENED


def do_ombudsman(request, case: Case) -> str:
    data = _data(OmbudsmanForm(request.POST))
    ombudsman_record(case_id=case.pk, ombudsman=data["ombudsman"], submitted_on=data["submitted_on"], note=data["note"], actor=request.user)
    return DONE_OMBUDSMAN


def do_findings(request, case: Case) -> str:
    data = _data(FindingsForm(request.POST))
    ombudsman_findings(case_id=case.pk, findings=data["findings"], measures=data["measures"], findings_on=data["findings_on"], actor=request.user)
    return DONE_FINDINGS


ACTIONS = {
    "ombudsman": do_ombudsman,
    "findings": do_findings,
    "reopen": do_reopen,
    "ask": do_ask,
    "record": do_record,
    "withdraw": do_withdraw,
    "read": do_read,
    "consent_request": do_consent_request,
    "consent_record": do_consent_record,
}


@require_POST
@handles_cases
def conversation_action(request, pk: int, action: str):
    """A change to the conversation of a case; back to the case's conversation panel."""
    case = get_object_or_404(Case, pk=pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    if not run_action(request, lambda: handler(request, case), what=f"conversation {action} on {case}"):
        draft_keep(request, case_id=case.pk, action=action)
    return redirect(f"{reverse('handvest_workspace:case', args=[case.pk])}#gesprek")


def officer_panel(case: Case) -> dict:
    """What the case page shows of the conversation, with the forms that fit the case now."""
    questions = list(CitizenQuestion.objects.filter(case=case).select_related("letter", "asked_by").prefetch_related("attachments"))
    open_case = case.state != CaseState.CLOSED and case.merged_into_id is None
    has_open = any(q.status == QuestionStatus.OPEN for q in questions)
    return {
        "questions": questions,
        "ask_form": AskForm(initial={"expected_state": case.state}) if open_case and not has_open else None,
        "record_form": RecordAnswerForm() if has_open else None,
        "to_read": any(q.status == QuestionStatus.ANSWERED and q.read_at is None for q in questions),
        **_consent_panel(case),
        "survey": SatisfactionSurvey.objects.filter(case=case).first(),
        "reopen_requests": list(ReopenRequest.objects.filter(case=case).select_related("decided_by")),
        "reopen_form": ReopenDecisionForm(),
        **_ombudsman_panel(case),
    }


def _ombudsman_panel(case: Case) -> dict:
    """Awb 9:18: only a complaint whose handling ended can go to the ombudsman."""
    referral = OmbudsmanReferral.objects.filter(case=case).first()
    can_record = case.is_complaint() and case.state == CaseState.CLOSED
    return {
        "referral": referral,
        "ombudsman_form": OmbudsmanForm(initial={"ombudsman": referral.ombudsman} if referral else None) if can_record else None,
        "findings_form": FindingsForm(initial={"findings": referral.findings, "measures": referral.measures, "findings_on": referral.findings_on})
        if referral
        else None,
    }


def _consent_panel(case: Case) -> dict:
    """Awb 9:11 lid 3: after the one extension, a further one only with the complainant's consent."""
    consents = list(ConsentRequest.objects.filter(case=case))
    pending = ConsentRequest.objects.filter(case=case).awaiting(timezone.localdate()).exists()
    can_ask = not case.is_answered() and not case.not_extended_yet() and not pending and case.merged_into_id is None
    return {
        "consents": consents,
        "consent_form": ConsentRequestForm(initial={"expected_state": case.state}) if can_ask else None,
        "consent_record_form": ConsentRecordForm() if pending else None,
    }


def queues() -> dict:
    """The officers' conversation queues; each a list of rows with the case and its registration."""
    base = CitizenQuestion.objects.select_related("case__registration", "case__assigned_to").order_by("asked_at")
    return {
        "waiting": list(base.filter(status=QuestionStatus.OPEN)),
        "to_read": list(base.filter(status=QuestionStatus.ANSWERED, read_at__isnull=True).order_by("answered_at")),
        "reopen_pending": list(ReopenRequest.objects.filter(status=ReopenStatus.PENDING).select_related("case__registration").order_by("created_at")),
        "consents_pending": list(ConsentRequest.objects.awaiting(timezone.localdate()).select_related("case__registration").order_by("requested_at")),
    }


@require_GET
@handles_cases
def queue_page(request):
    """*Gesprekken*: cases waiting for the citizen, and replies to read."""
    context = {"header_title": _("Gesprekken"), "header_icon": "comment", "breadcrumbs_items": crumbs(("", _("Gesprekken"))), **queues()}
    return render(request, "cases/admin/workspace/conversation_queue.html", context)


urlpatterns = [
    path("", queue_page, name="queue"),
    path("zaak/<int:pk>/<slug:action>/", conversation_action, name="action"),
]
