"""The charter report on the public site: fills a ``cms.CharterReportPage`` ("Hoe hielden wij ons
aan onze beloften?") with the report of its year (``cases.measurements.charter_report``).

Registered (``cases/wagtail_hooks.py``) on the ``charter_report_page_context`` hook that the page
runs, so ``cms`` needs nothing of ``cases``. Every chart has a text alternative and every number
stands in a table with a caption and header cells; counts of cases follow the small-cell rule.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from cases.measurements.charter_report import charter_report_build
from cases.reporting.report import ReportError


def add_charter_report(*, page, request, context) -> None:
    year = context.get("report_year") or timezone.localdate().year - 1
    try:
        report = charter_report_build(year=year)
    except ReportError:
        # A year that has not begun (the editor typed next year): the page says there are no figures yet.
        return
    context["charter_report"] = report
    context.setdefault("charter_report_sections", []).append(render_to_string("cases/report/charter_report_public.html", {"report": report}))
