"""The case page of the workspace: the message, the timeline, the norms, and the steps that can be taken now."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F, Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.correspondence.links import link_destination, link_fingerprint
from cases.models import Attachment, Case, CaseEvent, CaseState, EventKind, InboundMessage, OutgoingMessage, TagStatus
from cases.records.read_log import record_read
from cases.tagging import similar_stored, tag_candidates
from cases.workflow.deadlines import latest_extension_date
from cases.workflow.transitions import allowed_transitions, blocked_transitions, report_fingerprint
from cases.workspace import forms as wf
from cases.workspace.compose import composer_context
from cases.workspace.conversation import officer_panel
from cases.workspace.drafts import draft_restore
from cases.workspace.inbox import crumbs, deadline_badge
from cases.workspace.roles import handles_cases


def case_or_404(pk: int) -> Case:
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
    "similar": _("Mogelijk over hetzelfde: vergelijkbare zaken gevonden"),
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
    "hearing_report": _("Verslag van het horen (Awb 9:10 lid 3)"),
    "merged_into": _("Samengevoegd"),
    "merged_from": _("Dubbele zaak samengevoegd"),
    "citizen_hint": _("Hint van de indiener op het formulier"),
    "letter_text": _("Tekst van de brief"),
    "letter_text_corrected": _("Tekst van de brief gecorrigeerd"),
    "private_link_renewed": _("Nieuwe persoonlijke link"),
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
                if isinstance(event.data, dict) and event.data.get("late"):
                    step = f"{step}; na de termijn van vier weken (Awb 9:8 lid 3)"
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


def _hearing_report_form(case: Case) -> wf.HearingReportForm:
    report = case.hearing_report
    initial = {"expected_state": case.state, "report": report, "complained_about": case.complained_about, "seen": report_fingerprint(report)}
    return wf.HearingReportForm(initial=initial)


def case_context(request, case: Case, **extra) -> dict:
    """Everything the case page shows; ``extra`` overrides forms that came back with errors."""
    expected = {"expected_state": case.state}
    # Whoever takes up the case is its handler unless they choose a colleague.
    step_initial = {**expected, "officer": request.user.pk}
    merged = case.merged_into_id is not None
    open_case = not merged and case.state != CaseState.CLOSED
    transitions = allowed_transitions(case, request.user)
    # After an explanation or a hearing, "satisfied" is one of the two roads ahead (Awb 9:5), not a fold-away ending.
    other_endings = [name for name in wf.OTHER_ENDINGS if not (name == "resolve_informally" and case.state in wf.SATISFIED_IS_A_NEXT_STEP)]
    tags = list(case.norm_tags.select_related("norm", "decided_by").order_by("status", F("score").desc(nulls_last=True)))
    context = {
        "case": case,
        "registration": case.registration,
        "header_title": f"{case.registration.number}",
        "header_icon": "doc-full",
        "breadcrumbs_items": crumbs(("", case.registration.number)),
        "badge": deadline_badge(case),
        "merged": merged,
        "merged_cases": list(Case.objects.filter(merged_into=case).select_related("registration")),
        "events": timeline(case),
        "tags": tags,
        "candidates": tag_candidates(case_id=case.pk) if not merged else [],
        "similar": similar_stored(case.pk),
        "add_norm_form": wf.AddNormForm(initial=expected, exclude={tag.norm.code for tag in tags}),
        "transition_forms": [wf.TransitionForm(initial=step_initial, transition=name) for name in transitions if name not in other_endings],
        "other_endings": [wf.TransitionForm(initial=step_initial, transition=name) for name in transitions if name in other_endings],
        "blocked_steps": [(wf.TRANSITION_LABELS[name], reason) for name, reason in blocked_transitions(case, request.user)],
        "extend_form": wf.ExtendForm(initial=expected) if case.is_extendable() and not merged else None,
        "latest_extension": latest_extension_date(case),
        "waive_form": wf.WaiveHearingForm(initial=expected) if case.hearing_waivable() and not merged else None,
        "hearing_report_form": _hearing_report_form(case) if case.hearing_reportable() and not merged else None,
        "assign_form": wf.AssignForm(initial={**expected, "officer": case.assigned_to_id, "seen_officer": case.assigned_to_id or ""}) if open_case else None,
        "note_form": wf.NoteForm(),
        "callback_form": wf.CallbackForm(initial=expected) if case.callback_owed() and not merged else None,
        "merge_form": wf.MergeForm(initial=expected) if open_case else None,
        "link_form": wf.PrivateLinkForm(initial={"seen": link_fingerprint(case)}) if not case.public_token_revoked else None,
        "link_destination": link_destination(case) if not merged and not case.public_token_revoked else "",
        "attachments": list(Attachment.objects.filter(Q(registration=case.registration_id) | Q(inbound_message__case=case)).distinct().order_by("pk")),
        "originals": list(_originals(case)),
        "outgoing": list(OutgoingMessage.objects.filter(case=case).order_by("created_at", "pk")),
        "letters": composer_context(request, case),
        "conversation": officer_panel(case),
    }
    context.update(extra)
    return context


@require_GET
@handles_cases
def case_detail(request, pk: int):
    """De zaak: the message, the timeline, the norms, and the steps that can be taken now."""
    case = case_or_404(pk)
    record_read(request, case, case.registration)
    context = case_context(request, case)
    draft_restore(request, case_id=case.pk, context=context)
    return render(request, "cases/admin/workspace/case_detail.html", context)
