"""The privacy statement for citizens (AVG art. 13): what we keep of a complaint or suggestion, why,
who sees it, how long, and what the citizen may ask. Linked from the web form, where the data is
asked, and from every page's footer.

The terms are read from the archivist's retention table (``ResultType``), so the statement says
what Handvest actually does; the municipality's name and contact from its settings.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.models import ArchivalVerdict, Kind, ResultType


def _terms(kind: str) -> list[tuple[str, str]]:
    rows = ResultType.objects.filter(kind=kind).order_by("sort_order", "selectielijst_item")
    return [(row.name, "blijvend" if row.verdict != ArchivalVerdict.DESTROY else f"{row.term_years} jaar") for row in rows]


@require_GET
def privacy_statement(request):
    context = {"complaint_terms": _terms(Kind.COMPLAINT), "suggestion_terms": _terms(Kind.SUGGESTION)}
    return render(request, "cases/public/privacy.html", context)
