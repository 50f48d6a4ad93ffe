"""The officers' workspace in the Wagtail admin: the inbox, the case, and the case's actions.

Views are thin: they check the role (``permissions``), read a form, call a service and turn what
the service refuses (TransitionNotAllowed, WorkflowError, ValidationError, PermissionDenied)
into a Dutch message. Every action is a POST that redirects back to the case (PRG).

The inbox answers with a fixed number of queries whatever the page size: one count, one page
of cases with their registration and officer, one for the page's norm tags, one for the norm
filter's choices (see ``tests/test_workspace_queries.py`` and ``bench/bench_case_list.py``).
On PostgreSQL its search uses the Dutch full-text index of migration 0006.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import F, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django_fsm import TransitionNotAllowed
from wagtail import hooks

from cases import errors
from cases.admin_views import workspace_forms as wf
from cases.admin_views.permissions import RoleMenuItem, can_handle_cases, handles_cases, handles_cases_or_mailroom
from cases.calendar import default_calendar
from cases.models import (
    DUE_SOON_WORKING_DAYS,
    Attachment,
    Case,
    CaseEvent,
    CaseNorm,
    CaseState,
    EventKind,
    InboundMessage,
    Kind,
    OutgoingMessage,
    Registration,
    TagStatus,
)
from cases.services import triage as triage_services
from cases.services.tagging import tag_confirm, tag_reject
from cases.services.workflow import WorkflowError, allowed_transitions, case_add_note, case_extend, case_transition, case_waive_hearing, latest_extension_date

logger = logging.getLogger(__name__)

STALE_FORM = _("Dit formulier is verouderd of onvolledig. Vernieuw de pagina en probeer het opnieuw.")
UNKNOWN_ACTION = _("Onbekende actie.")
FILE_MISSING = _("Het bestand is niet (meer) aanwezig.")

DONE_TRANSITION = _("%(step)s: gelukt. De zaak staat nu op '%(state)s'.")
DONE_EXTEND = _("De antwoordtermijn is verlengd tot %(date)s. Stuur de indiener een tussentijdse mededeling.")
DONE_EXTEND_WITH_NOTICE = _("De antwoordtermijn is verlengd tot %(date)s; de tussentijdse mededeling gaat naar de indiener.")
DONE_WAIVE = _("Vastgelegd waarom er geen hoorzitting is.")
DONE_ASSIGN = _("Behandelaar gewijzigd.")
DONE_NOTE = _("Notitie toegevoegd.")
DONE_CONFIRM = _("Norm %(code)s bevestigd.")
DONE_REJECT = _("Norm %(code)s afgewezen.")
DONE_MERGE = _("Zaak samengevoegd met %(number)s.")

# Which deadline comes next, as ``Case.next_deadline`` computes it, but in SQL so it can be sorted and filtered.
NEXT_DUE = models.Case(
    models.When(state=CaseState.RECEIVED, then=F("acknowledgement_due")),
    models.When(state__in=[CaseState.CLOSED, CaseState.ANSWERED, CaseState.RESPONDED], then=Value(None, output_field=models.DateField())),
    default=Coalesce("extended_answer_due", "answer_due"),
    output_field=models.DateField(),
)
REGISTRATION_NUMBER = re.compile(r"^[A-Za-z]{1,6}-\d{4}-\d{6}$")
# Must match the expression of the index in migration 0006 exactly, or PostgreSQL scans instead.
# Columns unqualified: inside the subquery Django renames the table, and they resolve to it there.
FULLTEXT_VECTOR = (
    "to_tsvector('dutch', coalesce(subject, '') || ' ' || coalesce(text, '') || ' ' || coalesce(sender_name, '') || ' ' || coalesce(sender_email, ''))"
)
# Each word as a Dutch stem ("wachtte" finds "wachten") or as the plain start of a word ("parkeer" finds
# "parkeervergunning", whose stem the Dutch stemmer would not share with "parkeer").
FULLTEXT_WORD = "(to_tsquery('dutch', %s) || to_tsquery('simple', %s))"
PART_OF_A_NUMBER = re.compile(r"^[A-Za-z]{0,6}-?\d{3,4}(-\d{0,6})?$|^\d{3,6}$")
DEADLINE_NAMES = {"acknowledgement": _("ontvangstbevestiging"), "answer": _("antwoord")}
BADGE_TEXT = {"overdue": _("Te laat"), "soon": _("Binnenkort"), "ok": _("Op tijd"), "none": _("Geen termijn")}
BADGE_ICON = {"overdue": "warning", "soon": "time", "ok": "success", "none": "minus"}


# --- deadline badges ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadlineBadge:
    """What the officer reads beside a case: the status in words (not colour only), the deadline and its date."""

    status: str
    text: str
    icon: str
    name: str = ""
    due: datetime.date | None = None
    days_late: int = 0


def deadline_badge(case: Case, today: datetime.date | None = None) -> DeadlineBadge:
    today = today or timezone.localdate()
    status = case.deadline_status(today)
    deadline = case.next_deadline()
    if deadline is None:
        return DeadlineBadge(status="none", text=str(BADGE_TEXT["none"]), icon=BADGE_ICON["none"])
    name, due = deadline
    # Working days, as the terms themselves are counted (WorkingCalendar counts them by arithmetic,
    # so a page of 100 old overdue cases stays cheap).
    late = default_calendar().working_days_between(due, today) if status == "overdue" else 0
    return DeadlineBadge(status=status, text=str(BADGE_TEXT[status]), icon=BADGE_ICON[status], name=str(DEADLINE_NAMES[name]), due=due, days_late=late)


# --- the inbox ----------------------------------------------------------------------------------
def case_list(*, filters: dict, user, today: datetime.date | None = None):
    """The inbox's cases for these filters, sorted; one query when evaluated (tags are prefetched)."""
    today = today or timezone.localdate()
    cases = Case.objects.select_related("registration", "assigned_to").annotate(next_due=NEXT_DUE)
    state = filters.get("state") or wf.STATE_OPEN
    if state == wf.STATE_MERGED:
        cases = cases.filter(merged_into__isnull=False)
    elif state == wf.STATE_ALL:
        pass
    elif state in CaseState.values:
        cases = cases.filter(state=state, merged_into__isnull=True)
    else:
        cases = cases.filter(state__in=CaseState.open_states(), merged_into__isnull=True)
    if filters.get("kind"):
        cases = cases.filter(kind=filters["kind"])
    if filters.get("channel"):
        cases = cases.filter(registration__channel=filters["channel"])
    if filters.get("norm"):
        tagged = CaseNorm.objects.filter(norm__code=filters["norm"]).exclude(status=TagStatus.REJECTED).values("case_id")
        cases = cases.filter(pk__in=tagged)
    if filters.get("deadline") == wf.DEADLINE_OVERDUE:
        cases = cases.filter(next_due__lt=today)
    elif filters.get("deadline") == wf.DEADLINE_SOON:
        # The same rule as Case.deadline_status: at most DUE_SOON_WORKING_DAYS working days away.
        limit = default_calendar().add_working_days(today, DUE_SOON_WORKING_DAYS + 1)
        cases = cases.filter(next_due__gte=today, next_due__lt=limit)
    if filters.get("assigned") == wf.ASSIGNED_ME:
        cases = cases.filter(assigned_to=user)
    elif filters.get("assigned") == wf.ASSIGNED_NOBODY:
        cases = cases.filter(assigned_to__isnull=True)
    query = filters.get("q") or ""
    if query:
        cases = cases.filter(search_condition(query))
    sort = filters.get("sort") or wf.SORT_DEADLINE
    if sort == wf.SORT_NEWEST:
        cases = cases.order_by("-registration__received_on", "-pk")
    elif sort == wf.SORT_NUMBER:
        cases = cases.order_by("registration__number")
    else:
        cases = cases.order_by(F("next_due").asc(nulls_last=True), "pk")
    visible_tags = CaseNorm.objects.exclude(status=TagStatus.REJECTED).select_related("norm").order_by("-status", F("score").desc(nulls_last=True))
    return cases.prefetch_related(Prefetch("norm_tags", queryset=visible_tags, to_attr="visible_tags"))


def search_condition(query: str) -> Q:
    """Number, subject, text and sender.

    A whole registration number is looked up by its unique index, a part of one ("000042") in the
    numbers only, an e-mail address in the addresses. On PostgreSQL the other words are found in
    the Dutch full-text index of migration 0006 (subject, text, sender), each word also as the start
    of a longer one: "Zijl" finds Zijlstra, "wachtte" finds "wachten". Elsewhere (SQLite) every
    field is matched on any part.
    """
    query = query.strip()
    if REGISTRATION_NUMBER.match(query):
        return Q(registration__number=query.upper())
    if PART_OF_A_NUMBER.match(query):
        return Q(registration__number__icontains=query)
    if "@" in query:
        return Q(registration__sender_email__icontains=query)
    words = re.findall(r"\w+", query)
    if connection.vendor == "postgresql" and words:
        # A subquery, so the index finds the matching registrations once, for the count and the page alike.
        where = f"{FULLTEXT_VECTOR} @@ ({' && '.join([FULLTEXT_WORD] * len(words))})"
        params = [f"{word}:*" for word in words for _config in ("dutch", "simple")]
        return Q(registration__in=Registration.objects.extra(where=[where], params=params).values("pk"))
    return (
        Q(registration__number__icontains=query)
        | Q(registration__subject__icontains=query)
        | Q(registration__text__icontains=query)
        | Q(registration__sender_name__icontains=query)
        | Q(registration__sender_email__icontains=query)
    )


def case_list_page(*, filters: dict, user, page_number, today: datetime.date | None = None):
    """One page of the inbox: (page, paginator). Two queries, plus one for the page's tags when it is shown."""
    paginator = Paginator(case_list(filters=filters, user=user, today=today), filters.get("per_page") or wf.DEFAULT_PAGE_SIZE)
    return paginator.get_page(page_number), paginator


@require_GET
@handles_cases
def inbox(request):
    """Zaken: the open cases, soonest deadline first, with filters and search."""
    form = wf.CaseFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {"per_page": wf.DEFAULT_PAGE_SIZE, "sort": wf.SORT_DEADLINE, "q": ""}
    today = timezone.localdate()
    page, paginator = case_list_page(filters=filters, user=request.user, page_number=request.GET.get("p"), today=today)
    rows = [(case, deadline_badge(case, today)) for case in page.object_list]
    active = [name for name in ("state", "kind", "channel", "norm", "deadline", "assigned", "q") if filters.get(name)]
    return render(
        request,
        "cases/admin/workspace/inbox.html",
        {
            "header_title": _("Zaken"),
            "header_icon": "tasks",
            "breadcrumbs_items": _crumbs(),
            "form": form,
            "filter_controls": form.controls(),
            "page_obj": page,
            "paginator": paginator,
            "elided_page_range": paginator.get_elided_page_range(page.number),
            "rows": rows,
            "active_filters": active,
            "today": today,
        },
    )


# --- the case -----------------------------------------------------------------------------------
def _crumbs(*items: tuple[str, str]) -> list[dict]:
    crumbs = [{"url": reverse("wagtailadmin_home"), "label": _("Start")}, {"url": reverse("handvest_workspace:inbox"), "label": _("Zaken")}]
    return crumbs + [{"url": url, "label": label} for url, label in items]


def _case_or_404(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("registration", "assigned_to", "merged_into__registration"), pk=pk)


EVENT_ICONS = {
    EventKind.REGISTERED: "form",
    EventKind.TRANSITION: "arrow-right-full",
    EventKind.EXTENDED: "calendar-alt",
    EventKind.MESSAGE_IN: "mail",
    EventKind.MESSAGE_OUT: "mail",
    EventKind.TAG: "tag",
    EventKind.NOTE: "comment",
    EventKind.ASSIGNED: "user",
}
TAG_EVENT_TITLES = {
    TagStatus.SUGGESTED: _("Normen voorgesteld door de tagger"),
    TagStatus.CONFIRMED: _("Norm bevestigd"),
    TagStatus.REJECTED: _("Norm afgewezen"),
    "withdrawn": _("Voorstellen ingetrokken na correctie van de tekst"),
}
EVENT_TITLES = {
    EventKind.REGISTERED: _("Geregistreerd"),
    EventKind.EXTENDED: _("Antwoordtermijn verlengd"),
    EventKind.MESSAGE_IN: _("Bericht ontvangen"),
    EventKind.MESSAGE_OUT: _("Brief verstuurd"),
    EventKind.NOTE: _("Interne notitie"),
    EventKind.ASSIGNED: _("Behandelaar"),
}
NOTE_TITLES = {
    "waive_hearing": _("Geen hoorzitting (Awb 9:10 lid 2)"),
    "merged_into": _("Samengevoegd"),
    "merged_from": _("Dubbele zaak samengevoegd"),
    "citizen_hint": _("Hint van de indiener op het formulier"),
    "letter_text": _("Tekst van de brief"),
    "letter_text_corrected": _("Tekst van de brief gecorrigeerd"),
}


@dataclass(frozen=True)
class TimelineItem:
    at: datetime.datetime
    icon: str
    title: str
    detail: str
    actor: str
    kind: str
    visible_to_citizen: bool


def _state_label(value: str) -> str:
    return str(CaseState(value).label) if value in CaseState.values else value


def timeline(case: Case) -> list[TimelineItem]:
    """The case's events in order, each with a Dutch title: messages, steps, tag changes, notes."""
    items = []
    for event in CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "pk"):
        detail = event.note
        if event.kind == EventKind.TRANSITION:
            title = str(wf.TRANSITION_LABELS.get(event.name, event.name))
            step = f"{_state_label(event.from_state)} → {_state_label(event.to_state)}"
            if event.name in ("close", "respond", "resolve_informally") and case.outcome:
                step = f"{step}; uitkomst: {case.get_outcome_display()}"
            elif event.name == "decline" and case.decline_ground:
                step = f"{step}; {case.get_decline_ground_display()}"
            elif event.name == "forward" and case.forwarded_to:
                step = f"{step}; doorgezonden aan {case.forwarded_to}"
            detail = f"{step}. {event.note}".strip() if event.note else step
        elif event.kind == EventKind.TAG:
            title = str(TAG_EVENT_TITLES.get(event.name, _("Norm gewijzigd")))
        elif event.kind == EventKind.EXTENDED:
            title = str(EVENT_TITLES[event.kind])
            new_due = event.data.get("new_due") if isinstance(event.data, dict) else None
            if new_due:
                detail = f"Tot {datetime.date.fromisoformat(new_due):%d-%m-%Y}: {event.note}"
        elif event.kind == EventKind.NOTE:
            title = str(NOTE_TITLES.get(event.name, EVENT_TITLES[EventKind.NOTE]))
        else:
            title = str(EVENT_TITLES.get(event.kind, event.get_kind_display()))
        actor = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else str(_("systeem"))
        items.append(
            TimelineItem(
                at=event.at,
                icon=EVENT_ICONS.get(event.kind, "info-circle"),
                title=title,
                detail=detail,
                actor=actor,
                kind=event.kind,
                visible_to_citizen=not event.internal,
            )
        )
    return items


def _originals(case: Case):
    return InboundMessage.objects.filter(Q(case=case) | Q(registration=case.registration_id)).order_by("received_at", "pk")


def _hearing_waivable(case: Case) -> bool:
    return (
        case.kind == Kind.COMPLAINT
        and case.state in (CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED)
        and case.hearing_on is None
        and not case.hearing_waiver
    )


def _extendable(case: Case) -> bool:
    return case.state not in (CaseState.CLOSED, CaseState.ANSWERED, CaseState.RESPONDED) and case.not_extended_yet()


def case_context(request, case: Case, **extra) -> dict:
    """Everything the case page shows; ``extra`` overrides forms that came back with errors."""
    expected = {"expected_state": case.state}
    merged = case.merged_into_id is not None
    transitions = [] if merged else allowed_transitions(case, request.user)
    tags = list(case.norm_tags.select_related("norm", "decided_by").order_by("status", F("score").desc(nulls_last=True)))
    tagged_codes = {tag.norm.code for tag in tags}
    context = {
        "case": case,
        "registration": case.registration,
        "header_title": f"{case.registration.number}",
        "header_icon": "doc-full",
        "breadcrumbs_items": _crumbs(("", case.registration.number)),
        "badge": deadline_badge(case),
        "merged": merged,
        "merged_cases": list(Case.objects.filter(merged_into=case).select_related("registration")),
        "events": timeline(case),
        "tags": tags,
        "add_norm_form": wf.AddNormForm(initial=expected, exclude=tagged_codes),
        "transition_forms": [wf.TransitionForm(initial=expected, transition=name) for name in transitions if name not in wf.OTHER_ENDINGS],
        "other_endings": [wf.TransitionForm(initial=expected, transition=name) for name in transitions if name in wf.OTHER_ENDINGS],
        "extend_form": wf.ExtendForm(initial=expected) if _extendable(case) and not merged else None,
        "latest_extension": latest_extension_date(case),
        "waive_form": wf.WaiveHearingForm(initial=expected) if _hearing_waivable(case) and not merged else None,
        "assign_form": None if merged or case.state == CaseState.CLOSED else wf.AssignForm(initial={**expected, "officer": case.assigned_to_id}),
        "note_form": wf.NoteForm(),
        "merge_form": None if merged or case.state == CaseState.CLOSED else wf.MergeForm(initial=expected),
        "attachments": list(Attachment.objects.filter(Q(registration=case.registration_id) | Q(inbound_message__case=case)).distinct().order_by("pk")),
        "originals": list(_originals(case)),
        "outgoing": list(OutgoingMessage.objects.filter(case=case).order_by("created_at", "pk")),
        "letters": _letter_context(request, case),
    }
    context.update(extra)
    return context


@require_GET
@handles_cases
def case_detail(request, pk: int):
    """De zaak: the message, the timeline, the norms, and the steps that can be taken now."""
    case = _case_or_404(pk)
    return render(request, "cases/admin/workspace/case_detail.html", case_context(request, case))


# --- actions ------------------------------------------------------------------------------------
def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(str(message) for messages_ in exc.message_dict.values() for message in messages_)
    return " ".join(str(message) for message in exc.messages)


def _form_errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {message}" if name in form.fields and form.fields[name].label else str(message)
        for name, errs in form.errors.items()
        for message in errs
    )


def _require_expected_state(case: Case, form) -> str:
    """The state the officer saw; a step on a page that is out of date gets the conflict message."""
    expected = form.cleaned_data["expected_state"]
    if case.state != expected:
        raise triage_services.CaseConflict(errors.CONCURRENT_CHANGE % {"state": case.get_state_display()})
    if case.merged_into_id is not None:
        raise WorkflowError(triage_services.CASE_IS_MERGED % {"number": case.merged_into.registration.number})
    return expected


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
    form = wf.TransitionForm(request.POST, transition=name)
    data = _valid(form)
    if case.merged_into_id is not None:
        raise WorkflowError(triage_services.CASE_IS_MERGED % {"number": case.merged_into.registration.number})
    try:
        updated = case_transition(case_id=case.pk, name=name, actor=request.user, expected_state=data["expected_state"], note=data["note"], **form.params())
    except TransitionNotAllowed:
        case.refresh_from_db()
        raise WorkflowError(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()})
    return DONE_TRANSITION % {"step": form.label, "state": updated.get_state_display()}


def do_extend(request, case: Case) -> str:
    data = _valid(wf.ExtendForm(request.POST))
    if case.merged_into_id is not None:
        raise WorkflowError(triage_services.CASE_IS_MERGED % {"number": case.merged_into.registration.number})
    from cases.admin_views.compose import correspondence

    service = correspondence()
    arguments = {"case_id": case.pk, "new_due": data["new_due"], "reason": data["reason"], "actor": request.user, "expected_state": data["expected_state"]}
    if service is not None:
        # Awb 9:11(2): the citizen is told why and until when, in the same transaction as the extension.
        updated, _notice = service.case_extend_with_notice(**arguments)
        return DONE_EXTEND_WITH_NOTICE % {"date": f"{updated.extended_answer_due:%d-%m-%Y}"}
    updated = case_extend(**arguments)
    return DONE_EXTEND % {"date": f"{updated.extended_answer_due:%d-%m-%Y}"}


def do_waive_hearing(request, case: Case) -> str:
    form = wf.WaiveHearingForm(request.POST)
    data = _valid(form)
    _require_expected_state(case, form)
    if not _hearing_waivable(case):
        raise WorkflowError(errors.TRANSITION_NOT_ALLOWED % {"state": case.get_state_display()})
    case_waive_hearing(case_id=case.pk, reason=data["reason"], actor=request.user)
    return DONE_WAIVE


def do_assign(request, case: Case) -> str:
    data = _valid(wf.AssignForm(request.POST))
    officer = data.get("officer")
    triage_services.case_assign(case_id=case.pk, officer_id=officer.pk if officer else None, actor=request.user, expected_state=data["expected_state"])
    return DONE_ASSIGN


def do_note(request, case: Case) -> str:
    # A note adds to the timeline and overwrites nothing, so a page that is out of date may still add one.
    data = _valid(wf.NoteForm(request.POST))
    case_add_note(case_id=case.pk, text=data["text"], actor=request.user)
    return DONE_NOTE


def do_tag_confirm(request, case: Case) -> str:
    form = wf.TagForm(request.POST)
    data = _valid(form)
    _require_expected_state(case, form)
    tag_confirm(case_id=case.pk, code=data["code"], actor=request.user)
    return DONE_CONFIRM % {"code": data["code"]}


def do_tag_reject(request, case: Case) -> str:
    form = wf.TagForm(request.POST)
    data = _valid(form)
    _require_expected_state(case, form)
    tag_reject(case_id=case.pk, code=data["code"], actor=request.user)
    return DONE_REJECT % {"code": data["code"]}


def do_tag_add(request, case: Case) -> str:
    form = wf.AddNormForm(request.POST)
    data = _valid(form)
    _require_expected_state(case, form)
    tag_confirm(case_id=case.pk, code=data["code"], actor=request.user)
    return DONE_CONFIRM % {"code": data["code"]}


def do_merge(request, case: Case) -> str:
    data = _valid(wf.MergeForm(request.POST))
    merged = triage_services.case_merge(case_id=case.pk, into_number=data["into"], actor=request.user, expected_state=data["expected_state"], note=data["note"])
    return DONE_MERGE % {"number": Case.objects.select_related("registration").get(pk=merged.merged_into_id).registration.number}


ACTIONS = {
    "transition": do_transition,
    "extend": do_extend,
    "waive_hearing": do_waive_hearing,
    "assign": do_assign,
    "note": do_note,
    "tag_confirm": do_tag_confirm,
    "tag_reject": do_tag_reject,
    "tag_add": do_tag_add,
    "merge": do_merge,
}
ANCHORS = {"note": "tijdlijn", "tag_confirm": "normen", "tag_reject": "normen", "tag_add": "normen"}


def run_action(request, handler, *, what: str) -> bool:
    """Run a handler; show its success or the Dutch reason it was refused. Returns whether it succeeded."""
    try:
        done = handler()
    except (WorkflowError, TransitionNotAllowed) as exc:
        message = str(exc) if isinstance(exc, WorkflowError) else str(errors.TRANSITION_NOT_ALLOWED % {"state": "?"})
        logger.info("%s refused for %s: %s", what, request.user.get_username(), message)
        messages.error(request, message)
    except ValidationError as exc:
        logger.info("%s refused for %s: %s", what, request.user.get_username(), _error_text(exc))
        messages.error(request, _error_text(exc))
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
    case = _case_or_404(pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(UNKNOWN_ACTION)
    run_action(request, lambda: handler(request, case), what=f"{action} on {case}")
    anchor = ANCHORS.get(action, "acties")
    return redirect(f"{reverse('handvest_workspace:case', args=[case.pk])}#{anchor}")


# --- letters (correspondence) -------------------------------------------------------------------
def _letter_context(request, case: Case):
    """The letter composer, when the correspondence service is installed (``cases.admin_views.compose``)."""
    from cases.admin_views import compose

    return compose.composer_context(request, case)


# --- private files ------------------------------------------------------------------------------
def private_file_response(field, *, filename: str, content_type: str, inline: bool = False):
    """Serve a file from private storage, after the caller checked the permission; never cached, never sniffed."""
    if not field:
        raise Http404(FILE_MISSING)
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        logger.error("private file %s is missing from storage", field.name)
        raise Http404(FILE_MISSING)
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_GET
@handles_cases
def attachment_download(request, pk: int):
    """An attachment of a registration (upload, scan, e-mail attachment)."""
    attachment = get_object_or_404(Attachment, pk=pk)
    logger.info("attachment %s downloaded by %s", attachment.pk, request.user.get_username())
    return private_file_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type, inline=attachment.content_type == "application/pdf"
    )


@require_GET
@handles_cases
def original_download(request, pk: int):
    """The e-mail exactly as it arrived (.eml)."""
    message = get_object_or_404(InboundMessage, pk=pk)
    logger.info("original message %s downloaded by %s", message.pk, request.user.get_username())
    return private_file_response(message.raw, filename=f"bericht-{message.pk}.eml", content_type="message/rfc822")


@require_GET
@handles_cases_or_mailroom
def letter_pdf(request, pk: int):
    """The PDF of a letter to a citizen (officers; the mailroom prints them)."""
    letter = get_object_or_404(OutgoingMessage.objects.select_related("case__registration"), pk=pk)
    logger.info("letter pdf %s opened by %s", letter.pk, request.user.get_username())
    return private_file_response(letter.pdf, filename=f"{letter.case.registration.number}-{letter.kind}.pdf", content_type="application/pdf", inline=True)


# --- registration with Wagtail ------------------------------------------------------------------
urlpatterns = [
    path("", inbox, name="inbox"),
    path("<int:pk>/", case_detail, name="case"),
    path("<int:pk>/actie/<slug:action>/", case_action, name="case_action"),
    path("bijlage/<int:pk>/", attachment_download, name="attachment"),
    path("origineel/<int:pk>/", original_download, name="original"),
    path("brief/<int:pk>/pdf/", letter_pdf, name="letter_pdf"),
]


@hooks.register("register_admin_urls")
def register_workspace_urls():
    from cases.admin_views import compose, oral

    patterns = urlpatterns + compose.urlpatterns + oral.urlpatterns
    return [path("zaken/", include((patterns, "handvest_workspace"), namespace="handvest_workspace"))]


@hooks.register("register_admin_menu_item")
def register_inbox_menu_item():
    return RoleMenuItem(_("Zaken"), reverse("handvest_workspace:inbox"), name="zaken", icon_name="tasks", order=100, check=can_handle_cases)
