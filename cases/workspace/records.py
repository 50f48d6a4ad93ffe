"""The archive pages of the Wagtail admin (``/beheer/archief/``): the archivist's destruction lists, and a
case's archival facts for the officer.

* **Vernietigingslijsten** (archivist only): draw up a list of the cases whose term has passed,
  review it with the metadata per case (number, kind, result type, Selectielijst category, term,
  dates — never the complaint itself), exclude a case with a reason, approve, and download the
  *verklaring van vernietiging* once it is done.
* **Archivering van een zaak** (officers): the result type, verdict, term and destruction date of a
  closed case; change the result type while the date has not passed, record the Nationale
  ombudsman, or put and lift a hold.

Every POST goes to a service in ``cases.records``, which checks the role again; its refusals come
back as Dutch messages. Registered in ``cases/wagtail_hooks.py``.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from cases import dispatch
from cases.errors import WorkflowError
from cases.models import Case, CaseRecord, DestructionItemState, DestructionList, DestructionListItem, DestructionListStatus, RecordHold
from cases.permissions import can_handle_cases
from cases.records import destruction, retention
from cases.records.statement import statement_filename
from cases.workspace.actions import error_text
from cases.workspace.files import private_file_response
from cases.workspace.roles import ROLE_CASES, forbidden, handles_cases_or_archives, page_crumbs, reviews_destruction

logger = logging.getLogger(__name__)

LISTS_PER_PAGE = 20
DONE_CREATED = _("Vernietigingslijst %(number)s opgesteld met %(count)s zaken. Beoordeel de lijst en keur hem goed.")
DONE_EXCLUDED = _("Zaak %(number)s uitgezonderd van vernietiging.")
DONE_INCLUDED = _("Zaak %(number)s staat weer op de lijst.")
DONE_APPROVED = _("Lijst %(number)s goedgekeurd. De vernietiging is gestart; de verklaring van vernietiging verschijnt hier zodra alle zaken klaar zijn.")
DONE_CANCELLED = _("Lijst %(number)s ingetrokken. De zaken kunnen op een nieuwe lijst.")
DONE_RESUMED = _("De vernietiging van lijst %(number)s is opnieuw gestart.")
DONE_RESULT_TYPE = _("Resultaattype gewijzigd; de zaak wordt bewaard tot %(date)s.")
DONE_KEEP = _("Resultaattype gewijzigd; de zaak wordt blijvend bewaard.")
DONE_OMBUDSMAN = _("Vastgelegd: voorgelegd aan de Nationale ombudsman. De zaak wordt niet vernietigd zolang dat loopt.")
DONE_HOLD = _("Vastgelegd: de zaak wordt voorlopig niet vernietigd.")
DONE_LIFTED = _("Opschorting opgeheven; de zaak volgt weer zijn vernietigingsdatum.")


class ExcludeForm(forms.Form):
    reason = forms.CharField(label=_("Reden"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    postpone_until = forms.DateField(
        label=_("Opnieuw beoordelen vanaf"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leeg: de zaak komt op de volgende lijst."),
    )


class ResultTypeForm(forms.Form):
    result_type = forms.ModelChoiceField(label=_("Resultaattype"), queryset=None)
    reason = forms.CharField(label=_("Reden"), max_length=2000)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["result_type"].queryset = retention.result_types_for(kind)


class OmbudsmanForm(forms.Form):
    on = forms.DateField(label=_("Voorgelegd op"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Kenmerk of toelichting"), required=False, max_length=2000)


class HoldForm(forms.Form):
    hold = forms.ChoiceField(
        label=_("Waarom niet vernietigen"), choices=[(RecordHold.OBJECTION, RecordHold.OBJECTION.label), (RecordHold.OTHER, RecordHold.OTHER.label)]
    )
    reason = forms.CharField(label=_("Toelichting"), max_length=2000)


class LiftForm(forms.Form):
    reason = forms.CharField(label=_("Waarom opheffen"), max_length=2000)


def _run(request, action, done):
    """Call ``action`` and say ``done`` (a text, or a function of the result); a refusal becomes an error
    message. Returns the result, or None when refused."""
    try:
        result = action()
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except (WorkflowError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done(result) if callable(done) else done)
        return result
    return None


# --- the archivist: destruction lists ------------------------------------------------------------------
@require_GET
@reviews_destruction
def lists(request):
    page = Paginator(DestructionList.objects.select_related("created_by"), LISTS_PER_PAGE).get_page(request.GET.get("p"))
    today = timezone.localdate()
    context = {
        "header_title": _("Vernietigingslijsten"),
        "breadcrumbs_items": page_crumbs((None, _("Vernietigingslijsten"))),
        "header_icon": "bin",
        "page_obj": page,
        "due": destruction.destruction_candidates(as_of=today).exclude(case_id__in=list(destruction.cases_on_open_lists())).count(),
        "summary": destruction.destruction_summary(as_of=today),
        "today": today,
    }
    return render(request, "cases/admin/records/lists.html", context)


@require_POST
@reviews_destruction
def list_create(request):
    made = _run(
        request,
        lambda: destruction.destruction_list_create(actor=request.user),
        lambda made: DONE_CREATED % {"number": made.number, "count": made.items.count()},
    )
    return redirect("handvest_records:list", made.pk) if made else redirect("handvest_records:lists")


@require_GET
@reviews_destruction
def list_detail(request, pk: int):
    destruction_list = get_object_or_404(DestructionList.objects.select_related("approved_by", "created_by"), pk=pk)
    items = list(destruction_list.items.order_by("destroy_on", "number"))
    counts = {state: sum(item.state == state for item in items) for state in DestructionItemState.values}
    context = {
        "header_title": f"Vernietigingslijst {destruction_list.number}",
        "breadcrumbs_items": page_crumbs((reverse("handvest_records:lists"), _("Vernietigingslijsten")), (None, destruction_list.number)),
        "header_icon": "bin",
        "list": destruction_list,
        "items": items,
        "counts": counts,
        "reviewing": destruction_list.status == DestructionListStatus.PROPOSED,
        "stalled": destruction_list.status == DestructionListStatus.APPROVED,
        "exclude_form": ExcludeForm(),
        "today": timezone.localdate(),
    }
    return render(request, "cases/admin/records/list_detail.html", context)


@require_POST
@reviews_destruction
def list_action(request, pk: int, action: str):
    destruction_list = get_object_or_404(DestructionList, pk=pk)
    number = destruction_list.number
    if action == "goedkeuren":
        _run(request, lambda: destruction.destruction_list_approve(list_id=pk, actor=request.user), DONE_APPROVED % {"number": number})
    elif action == "intrekken":
        _run(request, lambda: destruction.destruction_list_cancel(list_id=pk, actor=request.user), DONE_CANCELLED % {"number": number})
    elif action == "hervatten" and destruction_list.status == DestructionListStatus.APPROVED:
        # The task resumes where a run broke off; each case is destroyed once, whatever runs it.
        dispatch.enqueue_on_commit(dispatch.DESTROY_LIST, pk, robust=True)
        messages.success(request, DONE_RESUMED % {"number": number})
    else:
        messages.error(request, _("Deze actie kan nu niet."))
    return redirect("handvest_records:list", pk)


@require_POST
@reviews_destruction
def item_action(request, pk: int, action: str):
    item = get_object_or_404(DestructionListItem, pk=pk)
    if action == "uitzonderen":
        form = ExcludeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            _run(
                request,
                lambda: destruction.destruction_item_exclude(item_id=pk, reason=data["reason"], postpone_until=data["postpone_until"], actor=request.user),
                DONE_EXCLUDED % {"number": item.number},
            )
        else:
            messages.error(request, _("Vermeld waarom deze zaak niet vernietigd wordt (en een datum na vandaag, als u die invult)."))
    elif action == "terugzetten":
        _run(request, lambda: destruction.destruction_item_include(item_id=pk, actor=request.user), DONE_INCLUDED % {"number": item.number})
    return redirect("handvest_records:list", item.destruction_list_id)


@require_GET
@reviews_destruction
def statement_download(request, pk: int):
    destruction_list = get_object_or_404(DestructionList, pk=pk)
    logger.info("statement of %s downloaded by %s", destruction_list.number, request.user.get_username())
    return private_file_response(destruction_list.statement, filename=statement_filename(destruction_list), content_type="application/pdf", inline=True)


# --- the officer: a case's place in the archive --------------------------------------------------------
def _case_archive_context(case: Case, record: CaseRecord | None, *, officer: bool) -> dict:
    today = timezone.localdate()
    changeable = officer and record is not None and not record.wiped and (record.destroy_on is None or record.destroy_on > today)
    officer_record = officer and record is not None and not record.wiped
    return {
        "officer": officer,
        "header_title": f"Archivering {case.registration.number}",
        "breadcrumbs_items": page_crumbs((None, f"Archivering {case.registration.number}")),
        "header_icon": "folder-inverse",
        "case": case,
        "record": record,
        "today": today,
        "result_type_form": ResultTypeForm(kind=case.kind, initial={"result_type": record.result_type_id}) if changeable else None,
        "ombudsman_form": OmbudsmanForm(initial={"on": today}) if officer_record and case.kind == "complaint" else None,
        "hold_form": HoldForm() if officer_record and not record.hold else None,
        "lift_form": LiftForm() if record and not record.wiped and record.hold and (officer or record.hold == RecordHold.OTHER) else None,
        "lists": DestructionListItem.objects.filter(case=case).select_related("destruction_list").order_by("-pk"),
    }


@require_GET
@handles_cases_or_archives
def case_archive(request, pk: int):
    case = get_object_or_404(Case.objects.select_related("registration"), pk=pk)
    record = CaseRecord.objects.filter(case=case).select_related("result_type").first()
    context = _case_archive_context(case, record, officer=can_handle_cases(request.user))
    return render(request, "cases/admin/records/case_archive.html", context)


def _record_done(record: CaseRecord) -> str:
    return str(DONE_KEEP) if record.destroy_on is None else str(DONE_RESULT_TYPE % {"date": f"{record.destroy_on:%d-%m-%Y}"})


@require_POST
@handles_cases_or_archives
def case_archive_action(request, pk: int, action: str):
    if action != "opheffen" and not can_handle_cases(request.user):
        return forbidden(request, ROLE_CASES)  # the archivist lifts a hold; the rest is the officers'
    case = get_object_or_404(Case, pk=pk)
    forms_by_action = {"resultaattype": ResultTypeForm, "ombudsman": OmbudsmanForm, "opschorten": HoldForm, "opheffen": LiftForm}
    if action not in forms_by_action:
        messages.error(request, _("Onbekende actie."))
        return redirect("handvest_records:case", pk)
    form = forms_by_action[action](request.POST, **({"kind": case.kind} if action == "resultaattype" else {}))
    if not form.is_valid():
        messages.error(request, " ".join(str(message) for errs in form.errors.values() for message in errs))
        return redirect("handvest_records:case", pk)
    data, user = form.cleaned_data, request.user
    calls = {
        "resultaattype": (
            lambda: retention.record_set_result_type(case_id=pk, result_type_id=data["result_type"].pk, reason=data["reason"], actor=user),
            _record_done,
        ),
        "ombudsman": (lambda: retention.record_ombudsman(case_id=pk, on=data["on"], note=data["note"], actor=user), DONE_OMBUDSMAN),
        "opschorten": (lambda: retention.record_hold(case_id=pk, hold=data["hold"], reason=data["reason"], actor=user), DONE_HOLD),
        "opheffen": (lambda: retention.record_lift_hold(case_id=pk, reason=data["reason"], actor=user), DONE_LIFTED),
    }
    call, done = calls[action]
    _run(request, call, done)
    return redirect("handvest_records:case", pk)


urlpatterns = [
    path("", lists, name="lists"),
    path("opstellen/", list_create, name="list_create"),
    path("lijst/<int:pk>/", list_detail, name="list"),
    path("lijst/<int:pk>/verklaring/", statement_download, name="statement"),
    path("lijst/<int:pk>/<slug:action>/", list_action, name="list_action"),
    path("item/<int:pk>/<slug:action>/", item_action, name="item_action"),
    path("zaak/<int:pk>/", case_archive, name="case"),
    path("zaak/<int:pk>/<slug:action>/", case_archive_action, name="case_action"),
]
