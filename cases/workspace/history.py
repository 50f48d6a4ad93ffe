"""A case's history for the officer: every change and every read logged about it (read only).

The entries come from the audit trail (``cases.records.audit``); this page shows them and
nothing, anywhere in Handvest, edits or deletes them.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.records.audit import history_of
from cases.workspace.case_page import case_or_404
from cases.workspace.inbox import crumbs
from cases.workspace.roles import handles_cases

ACTION_LABELS = {
    LogEntry.Action.CREATE: _("aangemaakt"),
    LogEntry.Action.UPDATE: _("gewijzigd"),
    LogEntry.Action.DELETE: _("verwijderd"),
    LogEntry.Action.ACCESS: _("ingezien"),
}
PER_PAGE = 50


def entry_row(entry: LogEntry) -> dict:
    changes = entry.changes_dict if entry.action == LogEntry.Action.UPDATE else {}
    extra = entry.additional_data or {}
    return {
        "at": entry.timestamp,
        "who": (entry.actor.get_full_name() or entry.actor.get_username()) if entry.actor else _("het systeem"),
        "what": ACTION_LABELS.get(entry.action, entry.get_action_display()),
        "object": f"{entry.content_type.name} {entry.object_repr}",
        "changes": [(field, values[0], values[1]) for field, values in sorted(changes.items()) if isinstance(values, list | tuple) and len(values) == 2],
        "view": extra.get("view", ""),
        "trace": entry.cid or "",
    }


@require_GET
@handles_cases
def case_history(request, pk: int):
    case = case_or_404(pk)
    page = Paginator(history_of(case), PER_PAGE).get_page(request.GET.get("pagina"))
    number = case.registration.number
    return render(
        request,
        "cases/admin/workspace/case_history.html",
        {
            "case": case,
            "header_title": _("Geschiedenis van %(number)s") % {"number": number},
            "header_icon": "history",
            "breadcrumbs_items": crumbs((reverse("handvest_workspace:case", args=[case.pk]), number), ("", _("Geschiedenis"))),
            "page_obj": page,
            "rows": [entry_row(entry) for entry in page.object_list],
        },
    )


urlpatterns = [path("<int:pk>/geschiedenis/", case_history, name="case_history")]
