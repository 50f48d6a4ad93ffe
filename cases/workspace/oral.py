"""Taking a complaint or suggestion by phone or at the counter (*mondelinge klacht*), in the workspace.

The form and the service come from the intake (``cases.intake.forms.OralIntakeForm``,
``cases.intake.oral.oral_intake``): a complaint resolved during the conversation (Awb 9:5) is
registered and closed at once; a call-back request gets its deadline of two working days.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from cases.intake.forms import OralIntakeForm
from cases.permissions import can_handle_cases
from cases.workspace.inbox import crumbs
from cases.workspace.roles import uses_mailroom

logger = logging.getLogger(__name__)

DONE_ORAL = _("Geregistreerd als %(number)s.")
DONE_ORAL_CLOSED = _("Geregistreerd als %(number)s en direct afgesloten: naar tevredenheid opgelost (Awb 9:5).")


@require_http_methods(["GET", "POST"])
@uses_mailroom
def oral_intake(request):
    """Telefoon of balie: write down what the citizen said."""
    form = OralIntakeForm(request.POST or None)
    if request.method == "POST":
        registration = form.register(actor=request.user) if form.is_valid() else None
        if registration is not None:
            closed = form.cleaned_data["resolved_at_once"]
            messages.success(request, (DONE_ORAL_CLOSED if closed else DONE_ORAL) % {"number": registration.number})
            if can_handle_cases(request.user):
                return redirect("handvest_workspace:case", registration.case.pk)
            return redirect("handvest_workspace:oral")
        logger.info("oral intake form returned with errors in %s", ", ".join(sorted(form.errors)))
    return render(
        request,
        "cases/admin/workspace/oral.html",
        {
            "header_title": _("Telefoon of balie"),
            "header_icon": "mobile-alt",
            "breadcrumbs_items": crumbs(("", _("Telefoon of balie"))),
            "form": form,
        },
    )


urlpatterns = [path("nieuw/", oral_intake, name="oral")]
