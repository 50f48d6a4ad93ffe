"""The officer's and the mailroom's work on the Wagtail dashboard (the admin's start page):
my cases due soon (within DUE_SOON_WORKING_DAYS working days, the inbox's rule), what is overdue, triage, the mailroom's letters and quarantine.
Each figure links to the list it counts; a role sees only the figures of its work."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from cases.models import UNPROCESSED_OUTCOMES, Case, CaseState, InboundMessage, Kind, OutboxStatus, OutgoingMessage, Registration, TriageState
from cases.permissions import can_handle_cases, can_use_mailroom
from cases.workflow.deadlines import DUE_SOON_WORKING_DAYS, due_soon_limit
from cases.workspace import forms as wf


def officer_figures(user, today: datetime.date) -> list[dict]:
    """What a quality officer has on their plate: (label, count, link)."""
    open_cases = Case.objects.filter(state__in=CaseState.open_states(), merged_into__isnull=True).with_next_due()
    inbox = reverse("handvest_workspace:inbox")
    # The inbox's own rule, so the count is the length of the list it links to.
    mine = open_cases.filter(assigned_to=user, next_due__gte=today, next_due__lt=due_soon_limit(today))
    soon = _("Mijn zaken met een termijn binnen %(days)s werkdagen") % {"days": DUE_SOON_WORKING_DAYS}
    return [
        {"label": soon, "count": mine.count(), "url": f"{inbox}?assigned={wf.ASSIGNED_ME}&deadline={wf.DEADLINE_SOON}"},
        {"label": _("Zaken te laat"), "count": open_cases.filter(next_due__lt=today).count(), "url": f"{inbox}?deadline={wf.DEADLINE_OVERDUE}"},
        {
            "label": _("Zaken zonder behandelaar"),
            "count": open_cases.filter(assigned_to__isnull=True).count(),
            "url": f"{inbox}?assigned={wf.ASSIGNED_NOBODY}",
        },
        {
            "label": _("Overige post in triage"),
            "count": Registration.objects.filter(kind=Kind.OTHER, triage_state=TriageState.PENDING).count(),
            "url": reverse("handvest_triage:list"),
        },
    ]


def mailroom_figures() -> list[dict]:
    """The mailroom's queues: letters to print or post, e-mail in quarantine."""
    return [
        {
            "label": _("Brieven te printen of te posten"),
            "count": OutgoingMessage.objects.filter(status__in=[OutboxStatus.TO_PRINT, OutboxStatus.PRINTED]).count(),
            "url": reverse("handvest_mailroom:print_queue"),
        },
        {
            "label": _("E-mail in quarantaine"),
            "count": InboundMessage.objects.filter(outcome__in=UNPROCESSED_OUTCOMES, handled=False).count(),
            "url": reverse("handvest_mailroom:quarantine"),
        },
    ]


class WorkPanel(Component):
    """'Uw werk': the figures of the roles this user has, at the top of the dashboard."""

    name = "handvest_work"
    template_name = "cases/admin/dashboard_work.html"
    order = 50

    def get_context_data(self, parent_context):
        user = parent_context["request"].user
        figures = []
        if can_handle_cases(user):
            figures += officer_figures(user, timezone.localdate())
        if can_use_mailroom(user):
            figures += mailroom_figures()
        return {"figures": figures}


def add_work_panel(request, panels: list) -> None:
    if can_handle_cases(request.user) or can_use_mailroom(request.user):
        panels.append(WorkPanel())
