"""Every change to a case from the workspace: a POST, checked by its form, passed to a service,
and back to the case (PRG). What the service refuses (``WorkflowError``, ``ValidationError``,
``PermissionDenied``, ``TransitionNotAllowed``) comes back as a Dutch message; the services check
the state the officer saw, the permission and a merged case themselves.
"""

from __future__ import annotations

import datetime
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from cases import errors
from cases.correspondence.links import private_link_renew
from cases.correspondence.steps import case_extend_with_notice
from cases.errors import CaseConflict, WorkflowError
from cases.models import Case, CaseEvent, EventKind
from cases.tagging import tag_confirm, tag_reject
from cases.workflow.handling import case_add_note, case_assign, case_merge, case_record_callback
from cases.workflow.transitions import case_record_hearing, case_transition, case_waive_hearing
from cases.workspace import forms as wf
from cases.workspace.drafts import draft_keep
from cases.workspace.roles import handles_cases

logger = logging.getLogger(__name__)

STALE_FORM = _("Dit formulier is verouderd of onvolledig. Vernieuw de pagina en probeer het opnieuw.")
UNKNOWN_ACTION = _("Onbekende actie.")

DONE_TRANSITION = _("%(step)s: gelukt. De zaak staat nu op '%(state)s'.")
DONE_EXTEND_WITH_NOTICE = _("De antwoordtermijn is verlengd tot %(date)s; de tussentijdse mededeling gaat naar de indiener.")
DONE_WAIVE = _("Vastgelegd waarom er geen hoorzitting is.")
DONE_HEARING_REPORT = _("Het verslag van het horen is vastgelegd.")
DONE_ASSIGN = _("Behandelaar gewijzigd.")
DONE_NOTE = _("Notitie toegevoegd.")
DONE_CALLBACK = _("Terugbellen vastgelegd: de indiener is gesproken.")
DONE_CALLBACK_MISSED = _("Vastgelegd dat de indiener niet bereikt is; bel nog een keer (uiterlijk %(date)s).")
DONE_CONFIRM = _("Norm %(code)s bevestigd.")
DONE_REJECT = _("Norm %(code)s afgewezen.")
DONE_MERGE = _("Zaak samengevoegd met %(number)s.")
DONE_LINK = _("Nieuwe persoonlijke link gemaakt; de oude werkt niet meer. De nieuwe gaat naar de indiener (zie Brieven).")


def error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(str(message) for messages_ in exc.message_dict.values() for message in messages_)
    return " ".join(str(message) for message in exc.messages)


def _form_errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {message}" if name in form.fields and form.fields[name].label else str(message)
        for name, errs in form.errors.items()
        for message in errs
    )


def _valid(form):
    if not form.is_valid():
        if "expected_state" in form.errors or "name" in form.errors:
            raise ValidationError(STALE_FORM)
        raise ValidationError(_form_errors(form))
    return form.cleaned_data


def do_transition(request, case: Case) -> str:
    name = request.POST.get("name", "")
    if name not in wf.TRANSITION_LABELS:
        raise ValidationError(STALE_FORM)
    if name in wf.STEPS_IN_WRITING:
        raise WorkflowError(errors.STEP_NEEDS_LETTER % {"step": wf.TRANSITION_LABELS[name]})
    form = wf.TransitionForm(request.POST, transition=name)
    data = _valid(form)
    try:
        updated = case_transition(case_id=case.pk, name=name, actor=request.user, expected_state=data["expected_state"], note=data["note"], **form.params())
    except TransitionNotAllowed:
        case.refresh_from_db()
        raise WorkflowError(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()}) from None
    except CaseConflict:
        if not just_taken(case, name=name, user=request.user, from_state=data["expected_state"]):
            raise
        # The second click of a double click: the first took the step; no colleague to look for.
        case.refresh_from_db()
        updated = case
    return DONE_TRANSITION % {"step": form.label, "state": updated.get_state_display()}


DOUBLE_CLICK_SECONDS = 30


def just_taken(case: Case, *, name: str, user, from_state: str) -> bool:
    """Whether this user took this very step from this state a moment ago (and nothing happened since)."""
    last = CaseEvent.objects.filter(case=case).order_by("-at", "-pk").first()
    return (
        last is not None
        and (last.kind, last.name, last.from_state, last.actor_id) == (EventKind.TRANSITION, name, from_state, user.pk)
        and timezone.now() - last.at < datetime.timedelta(seconds=DOUBLE_CLICK_SECONDS)
    )


def do_extend(request, case: Case) -> str:
    """Awb 9:11(2): the citizen is told why and until when, in the same transaction as the extension."""
    data = _valid(wf.ExtendForm(request.POST))
    try:
        updated, _notice = case_extend_with_notice(
            case_id=case.pk, new_due=data["new_due"], reason=data["reason"], actor=request.user, expected_state=data["expected_state"]
        )
    except WorkflowError:
        if not just_extended(case, user=request.user, reason=data["reason"]):
            raise
        # The second click of a double click: the first extended the term and wrote the notice, once.
        case.refresh_from_db()
        updated = case
    return DONE_EXTEND_WITH_NOTICE % {"date": f"{updated.extended_answer_due:%d-%m-%Y}"}


def just_extended(case: Case, *, user, reason: str) -> bool:
    """Whether this user extended this case's term with this reason a moment ago (its notice may have followed)."""
    last = CaseEvent.objects.filter(case=case, kind=EventKind.EXTENDED).order_by("-at", "-pk").first()
    return (
        last is not None
        and (last.actor_id, last.note) == (user.pk, reason.strip())
        and timezone.now() - last.at < datetime.timedelta(seconds=DOUBLE_CLICK_SECONDS)
    )


def do_waive_hearing(request, case: Case) -> str:
    data = _valid(wf.WaiveHearingForm(request.POST))
    case_waive_hearing(case_id=case.pk, ground=data["ground"], reason=data["reason"], actor=request.user, expected_state=data["expected_state"])
    return DONE_WAIVE


def do_hearing_report(request, case: Case) -> str:
    data = _valid(wf.HearingReportForm(request.POST))
    case_record_hearing(
        case_id=case.pk,
        report=data["report"],
        complained_about=data["complained_about"],
        actor=request.user,
        expected_state=data["expected_state"],
        seen_report=data["seen"] if "seen" in request.POST else None,
    )
    return DONE_HEARING_REPORT


def do_assign(request, case: Case) -> str:
    data = _valid(wf.AssignForm(request.POST))
    officer = data.get("officer")
    seen = data["seen_officer"] if "seen_officer" in request.POST else None
    case_assign(
        case_id=case.pk, officer_id=officer.pk if officer else None, actor=request.user, expected_state=data["expected_state"], seen_officer=seen
    )
    return DONE_ASSIGN


def do_note(request, case: Case) -> str:
    # A note adds to the timeline and overwrites nothing, so a page that is out of date may still add one.
    data = _valid(wf.NoteForm(request.POST))
    case_add_note(case_id=case.pk, text=data["text"], actor=request.user)
    return DONE_NOTE


def do_callback(request, case: Case) -> str:
    data = _valid(wf.CallbackForm(request.POST))
    updated = case_record_callback(
        case_id=case.pk, reached=data["reached"], note=data["note"], actor=request.user, expected_state=data["expected_state"]
    )
    return DONE_CALLBACK if data["reached"] else DONE_CALLBACK_MISSED % {"date": f"{updated.callback_due:%d-%m-%Y}"}


def do_tag_confirm(request, case: Case) -> str:
    data = _valid(wf.TagForm(request.POST))
    tag_confirm(case_id=case.pk, code=data["code"], actor=request.user, expected_state=data["expected_state"], seen_status=data["seen_status"] or None)
    return DONE_CONFIRM % {"code": data["code"]}


def do_tag_reject(request, case: Case) -> str:
    data = _valid(wf.TagForm(request.POST))
    tag_reject(case_id=case.pk, code=data["code"], actor=request.user, expected_state=data["expected_state"], seen_status=data["seen_status"] or None)
    return DONE_REJECT % {"code": data["code"]}


def do_tag_add(request, case: Case) -> str:
    data = _valid(wf.AddNormForm(request.POST))
    tag_confirm(case_id=case.pk, code=data["code"], actor=request.user, expected_state=data["expected_state"])
    return DONE_CONFIRM % {"code": data["code"]}


def do_merge(request, case: Case) -> str:
    data = _valid(wf.MergeForm(request.POST))
    merged = case_merge(case_id=case.pk, into_number=data["into"], actor=request.user, expected_state=data["expected_state"], note=data["note"])
    return DONE_MERGE % {"number": Case.objects.select_related("registration").get(pk=merged.merged_into_id).registration.number}


def do_new_link(request, case: Case) -> str:
    form = wf.PrivateLinkForm(request.POST)
    if not form.is_valid():
        raise ValidationError(STALE_FORM if "seen" in form.errors else _form_errors(form))
    private_link_renew(case_id=case.pk, reason=form.cleaned_data["reason"], actor=request.user, seen=form.cleaned_data["seen"])
    return DONE_LINK


ACTIONS = {
    "transition": do_transition,
    "extend": do_extend,
    "waive_hearing": do_waive_hearing,
    "hearing_report": do_hearing_report,
    "assign": do_assign,
    "note": do_note,
    "callback": do_callback,
    "tag_confirm": do_tag_confirm,
    "tag_reject": do_tag_reject,
    "tag_add": do_tag_add,
    "merge": do_merge,
    "new_link": do_new_link,
}
ANCHORS = {"note": "tijdlijn", "tag_confirm": "normen", "tag_reject": "normen", "tag_add": "normen", "new_link": "persoonlijke-link"}


def run_action(request, handler, *, what: str) -> bool:
    """Run a handler; show its success or the Dutch reason it was refused. Returns whether it succeeded."""
    try:
        done = handler()
    except (WorkflowError, TransitionNotAllowed) as exc:
        message = str(exc) if isinstance(exc, WorkflowError) else str(errors.TRANSITION_NOT_ALLOWED % {"state": "?"})
        logger.info("%s refused for %s: %s", what, request.user.get_username(), message)
        messages.error(request, message)
    except ValidationError as exc:
        logger.info("%s refused for %s: %s", what, request.user.get_username(), error_text(exc))
        messages.error(request, error_text(exc))
    except PermissionDenied as exc:
        logger.warning("%s refused for %s: no permission", what, request.user.get_username())
        messages.error(request, str(exc) or str(errors.NO_PERMISSION))
    else:
        messages.success(request, done)
        return True
    return False


@require_POST
@handles_cases
def case_action(request, pk: int, action: str):
    """Every change to a case: a POST, checked, passed to a service, and back to the case."""
    case = get_object_or_404(Case, pk=pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(UNKNOWN_ACTION)
    if not run_action(request, lambda: handler(request, case), what=f"{action} on {case}"):
        draft_keep(request, case_id=case.pk, action=action)
    anchor = ANCHORS.get(action, "acties")
    return redirect(f"{reverse('handvest_workspace:case', args=[case.pk])}#{anchor}")
