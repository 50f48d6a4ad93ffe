"""Citizens' requests about their data in the Wagtail admin (``/beheer/privacy/``, menu *Privacyverzoeken*).

The officer searches the person by e-mail address, name or a registration number, checks the matches
(a namesake can be unticked), and then downloads everything held about them (AVG art. 15: a zip with
JSON, PDF and the files), corrects their contact details (art. 16) or erases what the retention
duty allows (art. 17). Every request is logged (``DataSubjectRequest``: numbers, what was done, why,
by whom), and each registration shown or exported is a line in the read log. Only users with
``HANDLE_DATA_REQUESTS`` (by default the quality officers) open these pages.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.errors import WorkflowError
from cases.models import DataSubjectRequest
from cases.records import erasure
from cases.records.read_log import record_read
from cases.records.subject_access import PersonMatch, PersonQuery, match_select, person_find, subject_access_export
from cases.workspace.actions import error_text
from cases.workspace.roles import handles_data_requests, page_crumbs

logger = logging.getLogger(__name__)

RECENT_REQUESTS = 15
ACTIVITY = "inzageverzoek"
DONE_RECTIFIED = _("Verbeterd bij %(numbers)s.")
DONE_ERASED = _("Gewist: %(numbers)s.")
NOTHING_ERASED = _("Er is niets gewist.")
REMOVE_OR_NEW = _("Kies: een nieuw e-mailadres, of het e-mailadres verwijderen; niet allebei.")
REFUSED = _("Niet gewist: %(number)s — %(reason)s.")
NOT_RECTIFIED = _("Niet verbeterd: %(number)s — %(reason)s.")
# The person searched for, kept in the officer's session: never in a URL, where the access log, a
# proxy and the browser's history would keep the name and e-mail address of who asked to be forgotten.
QUERY_KEY = "handvest_privacy_query"
CONFIRM_ERASURE = _("Vink aan dat u de gegevens wilt wissen; dat kan niet ongedaan worden.")


class SearchForm(forms.Form):
    email = forms.CharField(label=_("E-mailadres"), required=False, max_length=320)
    name = forms.CharField(label=_("Naam"), required=False, max_length=200, help_text=_("Precies dezelfde woorden; hoofdletters en spaties tellen niet."))
    number = forms.CharField(label=_("Registratienummer"), required=False, max_length=24)

    def query(self) -> PersonQuery | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return PersonQuery(email=data["email"], name=data["name"], number=data["number"])
        except ValidationError:
            return None


class RectifyForm(forms.Form):
    sender_name = forms.CharField(label=_("Nieuwe naam"), required=False, max_length=200)
    sender_email = forms.EmailField(label=_("Nieuw e-mailadres"), required=False)
    sender_phone = forms.CharField(label=_("Nieuw telefoonnummer"), required=False, max_length=40)
    sender_address = forms.CharField(label=_("Nieuw postadres"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    remove_email = forms.BooleanField(
        label=_("E-mailadres verwijderen"),
        required=False,
        help_text=_("Het adres is niet van de indiener en er is geen ander: brieven gaan dan per post."),
    )
    reason = forms.CharField(label=_("Reden en datum van het verzoek"), max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("remove_email") and data.get("sender_email"):
            raise forms.ValidationError(REMOVE_OR_NEW)
        return data


class EraseForm(forms.Form):
    reason = forms.CharField(label=_("Reden en datum van het verzoek"), max_length=2000)
    confirm = forms.BooleanField(label=_("Ik wil deze gegevens wissen; dat kan niet ongedaan worden."), required=True)


class ExportForm(forms.Form):
    reason = forms.CharField(label=_("Verzoek (datum, hoe de identiteit is vastgesteld)"), required=False, max_length=2000)


def _selected(request) -> list[int]:
    return [int(value) for value in request.POST.getlist("registrations") if value.isascii() and value.isdigit()]  # not "²"


def _back(request, query_data) -> str:
    """The search page, showing this person again (the query in the session, not in the URL)."""
    fields = {key: str(query_data.get(key, "")) for key in ("email", "name", "number") if query_data.get(key)}
    if fields:
        request.session[QUERY_KEY] = fields
    else:
        request.session.pop(QUERY_KEY, None)
    return reverse("handvest_privacy:search")


def _log_reads(request, match: PersonMatch) -> None:
    for registration in match.registrations:
        record_read(request, registration, registration, activity=ACTIVITY)


@require_http_methods(["GET", "POST"])
@handles_data_requests
def search(request):
    if request.method == "POST":  # the search form posts; the page shows the person found after a redirect
        return redirect(_back(request, request.POST))
    data = request.session.get(QUERY_KEY)
    form = SearchForm(data)
    query = form.query() if data else None
    match = person_find(query) if query else None
    if match is not None:
        _log_reads(request, match)
    context = {
        "header_title": _("Privacyverzoeken"),
        "breadcrumbs_items": page_crumbs((None, _("Privacyverzoeken"))),
        "header_icon": "user",
        "form": form,
        "match": match,
        "searched": bool(data),
        "export_form": ExportForm(prefix="inzage"),
        "rectify_form": RectifyForm(prefix="verbeteren"),
        "erase_form": EraseForm(prefix="wissen"),
        "requests": DataSubjectRequest.objects.select_related("handled_by")[:RECENT_REQUESTS],
    }
    return render(request, "cases/admin/records/privacy.html", context)


def _match_or_none(request) -> PersonMatch | None:
    query = SearchForm(request.POST).query()
    if query is None:
        messages.error(request, _("Zoek eerst de persoon op."))
        return None
    try:
        return match_select(person_find(query), _selected(request))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return None


@require_POST
@handles_data_requests
def export(request):
    query = SearchForm(request.POST).query()
    if query is None:
        messages.error(request, _("Zoek eerst de persoon op."))
        return redirect("handvest_privacy:search")
    form = ExportForm(request.POST, prefix="inzage")
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        filename, archive, match = subject_access_export(query=query, actor=request.user, registration_ids=_selected(request), reason=reason)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_back(request, request.POST))
    except (WorkflowError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return redirect(_back(request, request.POST))
    _log_reads(request, match)
    logger.info("access export of %s registrations by %s", len(match.registrations), request.user.get_username())
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@handles_data_requests
def rectify(request):
    match = _match_or_none(request)
    form = RectifyForm(request.POST, prefix="verbeteren")
    if match is not None and not form.is_valid():
        messages.error(request, " ".join(str(message) for errs in form.errors.values() for message in errs))
    elif match is not None:
        data = form.cleaned_data
        corrections = {key: data[key] for key in ("sender_name", "sender_email", "sender_phone", "sender_address")}
        try:
            removed = ("sender_email",) if data["remove_email"] else ()
            outcome = erasure.registrations_rectify(match=match, corrections=corrections, remove=removed, reason=data["reason"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            if outcome.done:
                messages.success(request, DONE_RECTIFIED % {"numbers": ", ".join(outcome.done)})
            for number, why in outcome.refused.items():
                messages.warning(request, NOT_RECTIFIED % {"number": number, "reason": why})
            # Found again by the corrected address, if that changed.
            query_data = {
                "email": data["sender_email"] or request.POST.get("email", ""),
                "name": data["sender_name"] or request.POST.get("name", ""),
                "number": request.POST.get("number", ""),
            }
            return redirect(_back(request, query_data))
    return redirect(_back(request, request.POST))


@require_POST
@handles_data_requests
def erase(request):
    match = _match_or_none(request)
    form = EraseForm(request.POST, prefix="wissen")
    if match is not None and not form.is_valid():
        messages.error(request, CONFIRM_ERASURE if "confirm" in form.errors else " ".join(str(m) for errs in form.errors.values() for m in errs))
    elif match is not None:
        try:
            outcome = erasure.registrations_erase(match=match, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, DONE_ERASED % {"numbers": ", ".join(outcome.done_items)} if outcome.done_items else NOTHING_ERASED)
            for number, reason in outcome.refused.items():
                messages.warning(request, REFUSED % {"number": number, "reason": reason})
    return redirect(_back(request, request.POST))


urlpatterns = [
    path("", search, name="search"),
    path("inzage/", export, name="export"),
    path("verbeteren/", rectify, name="rectify"),
    path("wissen/", erase, name="erase"),
]
