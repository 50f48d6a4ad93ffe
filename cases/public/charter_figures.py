"""Last year's figures per norm on the public charter page, when editors opted in.

Registered (``cases/wagtail_hooks.py``) on the ``charter_page_context`` hook that
``cms.CharterPage.get_context`` runs, so ``cms`` needs nothing of ``cases``. Counts only, with the same small-cell suppression as
everywhere (``<3``).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import PublicFigures
from cases.reporting.aggregates import norm_overview
from cases.reporting.figures import small_cell_threshold


def add_last_years_figures(*, page, request, context) -> None:
    if not PublicFigures.objects.filter(show_on_charter=True).exists():
        return
    year = timezone.localdate().year - 1
    figures = {row.code: row.figures for row in norm_overview(period=str(year))}
    for _channel, norms in context.get("norms_by_channel", []):
        for norm in norms:
            found = figures.get(norm.code)
            if found is not None:
                norm.charter_page_extras = [render_to_string("cases/report/charter_norm_figures.html", {"figures": found, "year": year})]
    context.setdefault("charter_page_sections", []).append(
        render_to_string("cases/report/charter_figures_note.html", {"year": year, "threshold": small_cell_threshold()})
    )
