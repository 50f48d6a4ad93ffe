"""The triage list: other mail (*overige post*) and e-mails the intake could not process.

From here an officer turns an item into a case, forwards it, or marks it done; the services in
``cases.intake.triage`` decide and log. Only officers (``cases.handle_case``) get here.
"""

from __future__ import annotations

import logging

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from cases.intake import triage as services
from cases.intake.classify import uncertain_guess
from cases.models import UNPROCESSED_OUTCOMES, InboundMessage, Kind, Registration, TriageState
from cases.workspace.actions import run_action
from cases.workspace.roles import handles_cases

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
DONE_CONVERTED = _("%(number)s is nu een %(kind)s.")
DONE_FORWARDED = _("%(what)s doorgestuurd aan %(to)s.")
DONE_MARKED = _("%(what)s afgehandeld.")
DONE_REGISTERED = _("Bericht geregistreerd als %(number)s (%(kind)s).")
FORM_INVALID = _("Controleer het formulier: %(errors)s")


class ConvertForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Maak er een"),
        choices=[(Kind.COMPLAINT, _("klacht")), (Kind.SUGGESTION, _("verbetersuggestie"))],
        error_messages={"invalid_choice": services.TRIAGE_CASE_KIND, "required": services.TRIAGE_CASE_KIND},
    )


class ForwardForm(forms.Form):
    to = forms.EmailField(label=_("Doorsturen aan (e-mailadres)"), max_length=254)
    note = forms.CharField(label=_("Begeleidende tekst"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class DoneForm(forms.Form):
    note = forms.CharField(label=_("Toelichting"), required=False, max_length=1000)


class RegisterMessageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Registreer als"), choices=Kind.choices)
    subject = forms.CharField(label=_("Onderwerp"), required=False, max_length=300)
    text = forms.CharField(
        label=_("Tekst"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Neem de tekst over uit het origineel als die hierboven ontbreekt."),
    )


def _cleaned(form: forms.Form) -> dict:
    if not form.is_valid():
        raise ValidationError(FORM_INVALID % {"errors": " ".join(str(m) for errs in form.errors.values() for m in errs)})
    return form.cleaned_data


@require_GET
@handles_cases
def triage_list(request):
    """Overige post and unprocessable e-mail, oldest first: both wait for a decision."""
    registrations = Registration.objects.filter(kind=Kind.OTHER, triage_state=TriageState.PENDING).prefetch_related("attachments").order_by("received_on", "pk")
    errors_ = InboundMessage.objects.filter(outcome__in=UNPROCESSED_OUTCOMES, handled=False).order_by("received_at", "pk")
    first_reason = InboundMessage.objects.filter(registration=OuterRef("pk")).order_by("pk").values("reason")[:1]
    registrations = registrations.annotate(intake_reason=Subquery(first_reason))
    registrations_page = Paginator(registrations, PAGE_SIZE).get_page(request.GET.get("p"))
    for registration in registrations_page:
        registration.guess = _guess_text(registration.intake_reason)
    messages_page = Paginator(errors_, PAGE_SIZE).get_page(request.GET.get("pm"))
    return render(
        request,
        "cases/admin/workspace/triage.html",
        {
            "header_title": _("Triage"),
            "header_icon": "clipboard-list",
            "breadcrumbs_items": [{"url": reverse("wagtailadmin_home"), "label": _("Start")}, {"url": "", "label": _("Triage")}],
            "registrations": registrations_page,
            "inbound": messages_page,
        },
    )


def _guess_text(reason: str | None) -> str:
    """What the kind classifier thought of mail it was unsure of, in Dutch, e.g. 'misschien een klacht (41% zeker)'."""
    guess = uncertain_guess(reason or "")
    if guess is None:
        return ""
    kind, confidence = guess
    label = Kind(kind).label if kind in Kind.values else kind
    return str(GUESS % {"kind": label, "percent": round(confidence * 100)})


GUESS = _("misschien een %(kind)s (%(percent)s%% zeker)")


def _registration_action(request, registration: Registration, action: str) -> str:
    if action == "convert":
        data = _cleaned(ConvertForm(request.POST))
        case = services.triage_convert(registration_id=registration.pk, kind=data["kind"], actor=request.user)
        return DONE_CONVERTED % {"number": registration.number, "kind": case.get_kind_display()}
    if action == "forward":
        data = _cleaned(ForwardForm(request.POST))
        services.triage_forward(registration_id=registration.pk, to=data["to"], note=data["note"], actor=request.user)
        return DONE_FORWARDED % {"what": registration.number, "to": data["to"]}
    data = _cleaned(DoneForm(request.POST))
    services.triage_done(registration_id=registration.pk, note=data["note"], actor=request.user)
    return DONE_MARKED % {"what": registration.number}


def _message_action(request, message: InboundMessage, action: str) -> str:
    what = _("Het bericht van %(when)s") % {"when": f"{message.received_at:%d-%m-%Y %H:%M}"}
    if action == "register":
        data = _cleaned(RegisterMessageForm(request.POST))
        registration = services.inbound_register(message_id=message.pk, kind=data["kind"], text=data["text"], subject=data["subject"], actor=request.user)
        return DONE_REGISTERED % {"number": registration.number, "kind": registration.get_kind_display()}
    if action == "forward":
        data = _cleaned(ForwardForm(request.POST))
        services.inbound_forward(message_id=message.pk, to=data["to"], note=data["note"], actor=request.user)
        return DONE_FORWARDED % {"what": what, "to": data["to"]}
    data = _cleaned(DoneForm(request.POST))
    services.inbound_done(message_id=message.pk, note=data["note"], actor=request.user)
    return DONE_MARKED % {"what": what}


@require_POST
@handles_cases
def registration_action(request, pk: int, action: str):
    if action not in ("convert", "forward", "done"):
        raise Http404
    registration = get_object_or_404(Registration, pk=pk)
    done = run_action(request, lambda: _registration_action(request, registration, action), what=f"triage {action} of {registration.number}")
    if done and action == "convert":
        return redirect("handvest_workspace:case", registration.case.pk)
    return redirect("handvest_triage:list")


@require_POST
@handles_cases
def message_action(request, pk: int, action: str):
    if action not in ("register", "forward", "done"):
        raise Http404
    message = get_object_or_404(InboundMessage, pk=pk, outcome__in=UNPROCESSED_OUTCOMES)
    run_action(request, lambda: _message_action(request, message, action), what=f"triage {action} of inbound message {message.pk}")
    return redirect(f"{reverse('handvest_triage:list')}#berichten")


urlpatterns = [
    path("", triage_list, name="list"),
    path("registratie/<int:pk>/<slug:action>/", registration_action, name="registration_action"),
    path("bericht/<int:pk>/<slug:action>/", message_action, name="message_action"),
]
