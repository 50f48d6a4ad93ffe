"""A case's history for the officer: every change and every read logged about it (read only).

The entries come from the audit trail (``cases.records.audit``); this page shows them and
nothing, anywhere in Handvest, edits or deletes them.
"""

from __future__ import annotations

import datetime

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.models import Case
from cases.records.audit import HIDDEN, history_of
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
EMPTY = "—"
BOOLEANS = {"True": _("ja"), "False": _("nee")}
# The pages that log a read (``cases.records.read_log``), by the URL name it logs: where the data was seen, in words.
VIEW_LABELS = {
    "handvest_workspace:case": _("de zaakpagina"),
    "handvest_workspace:attachment": _("een bijlage (download)"),
    "handvest_workspace:original": _("het originele bericht (download)"),
    "handvest_workspace:letter_pdf": _("de brief als PDF"),
    "handvest_mailroom:letter": _("de brief bij de postkamer"),
    "handvest_mailroom:scan": _("de scan bij de postkamer"),
    "handvest_mailroom:quarantine_original": _("het origineel in de quarantaine"),
    "handvest_privacy:search": _("Privacyverzoeken (zoeken)"),
    "handvest_privacy:export": _("Privacyverzoeken (inzage downloaden)"),
}


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None


def _changed_fields(entry: LogEntry) -> list[tuple[str, str, str]]:
    """(field name, old, new) of an update, as django-auditlog stored them (strings, "None" for empty)."""
    if entry.action != LogEntry.Action.UPDATE:
        return []
    changes = entry.changes_dict or {}
    return [(name, values[0], values[1]) for name, values in sorted(changes.items()) if isinstance(values, list | tuple) and len(values) == 2]


def related_names(entries: list[LogEntry]) -> dict[tuple[type, str], str]:
    """What the page calls the objects the entries' changed relations point to (a handler by name, a case by
    number), looked up once per related model for the whole page rather than per entry."""
    wanted: dict[type, set[str]] = {}
    for entry in entries:
        model = entry.content_type.model_class()
        for name, *values in _changed_fields(entry):
            field = _field(model, name)
            if field is not None and (field.many_to_one or field.one_to_one):
                wanted.setdefault(field.related_model, set()).update(str(value) for value in values if value not in ("", "None", None, HIDDEN))
    names = {}
    for related, pks in wanted.items():
        objects = related._default_manager.filter(pk__in=[pk for pk in pks if pk.isdigit()])
        if related is Case:
            objects = objects.select_related("registration")
        for obj in objects:
            is_user = related is get_user_model()
            names[(related, str(obj.pk))] = (obj.get_full_name() or obj.get_username()) if is_user else str(obj)
    return names


def value_text(field, value, names: dict) -> str:
    """A logged value as the officer reads it: the choice's label, a person's name, a local date and time, "—" for empty."""
    if value in ("", "None", None):
        return EMPTY
    value = str(value)
    if field is None or value == HIDDEN:
        return value
    if field.is_relation:
        return names.get((field.related_model, value), value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return str(BOOLEANS.get(value, value))
    try:
        if isinstance(field, models.DateTimeField):
            moment = datetime.datetime.fromisoformat(value)
            moment = timezone.make_aware(moment, datetime.UTC) if timezone.is_naive(moment) else moment  # auditlog logs in UTC
            return formats.date_format(timezone.localtime(moment), "j F Y H:i:s")
        if isinstance(field, models.DateField):
            return formats.date_format(datetime.date.fromisoformat(value), "d-m-Y")
    except ValueError:
        return value
    return value


def entry_row(entry: LogEntry, names: dict | None = None) -> dict:
    """One line of the history, in Dutch: the field's label (its verbose name), the values as a person reads them,
    the page a read came from."""
    model = entry.content_type.model_class()
    names = related_names([entry]) if names is None else names
    changes = []
    for name, old, new in _changed_fields(entry):
        field = _field(model, name)
        label = capfirst(field.verbose_name) if field is not None else name
        changes.append((label, value_text(field, old, names), value_text(field, new, names)))
    extra = entry.additional_data or {}
    view = extra.get("view", "")
    return {
        "at": entry.timestamp,
        "who": (entry.actor.get_full_name() or entry.actor.get_username()) if entry.actor else _("het systeem"),
        "what": ACTION_LABELS.get(entry.action, entry.get_action_display()),
        "object": f"{entry.content_type.name} {entry.object_repr}",
        "changes": changes,
        "view": VIEW_LABELS.get(view, extra.get("path", view)),
        "trace": entry.cid or "",
    }


@require_GET
@handles_cases
def case_history(request, pk: int):
    case = case_or_404(pk)
    page = Paginator(history_of(case), PER_PAGE).get_page(request.GET.get("pagina"))
    number = case.registration.number
    entries = list(page.object_list)
    names = related_names(entries)
    return render(
        request,
        "cases/admin/workspace/case_history.html",
        {
            "case": case,
            "header_title": _("Geschiedenis van %(number)s") % {"number": number},
            "header_icon": "history",
            "breadcrumbs_items": crumbs((reverse("handvest_workspace:case", args=[case.pk]), number), ("", _("Geschiedenis"))),
            "page_obj": page,
            "rows": [entry_row(entry, names) for entry in entries],
        },
    )


urlpatterns = [path("<int:pk>/geschiedenis/", case_history, name="case_history")]
