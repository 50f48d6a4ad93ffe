"""The officers' inbox (*Zaken*): open cases, next deadline first, with filters and search.

The inbox answers with a fixed number of queries whatever the page size: one count, one page
of cases with their registration and officer, one for the page's norm tags, one for the norm
filter's choices (see ``tests/test_workspace_queries.py`` and ``bench/bench_case_list.py``).
On PostgreSQL its search uses the Dutch full-text index of migration 0006.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Prefetch, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.calendar import default_calendar
from cases.models import Case, CaseNorm, CaseState, Registration, TagStatus
from cases.workflow.deadlines import deadline_status, due_soon_limit
from cases.workspace import forms as wf
from cases.workspace.roles import handles_cases, page_crumbs

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
DEADLINE_NAMES = {"acknowledgement": _("ontvangstbevestiging"), "answer": _("antwoord"), "callback": _("terugbellen")}
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
    status = deadline_status(case, today)
    deadline = case.next_deadline()
    if deadline is None:
        return DeadlineBadge(status="none", text=str(BADGE_TEXT["none"]), icon=BADGE_ICON["none"])
    name, due = deadline
    # Working days, as the terms themselves are counted (WorkingCalendar counts them by arithmetic,
    # so a page of 100 old overdue cases stays cheap).
    late = default_calendar().working_days_between(due, today) if status == "overdue" else 0
    return DeadlineBadge(status=status, text=str(BADGE_TEXT[status]), icon=BADGE_ICON[status], name=str(DEADLINE_NAMES[name]), due=due, days_late=late)


def crumbs(*items: tuple[str, str]) -> list[dict]:
    """Breadcrumbs from the admin's start page through the inbox."""
    return page_crumbs((reverse("handvest_workspace:inbox"), _("Zaken")), *items)


# --- the inbox ----------------------------------------------------------------------------------
def case_list(*, filters: dict, user, today: datetime.date | None = None):
    """The inbox's cases for these filters, sorted; one query when evaluated (tags are prefetched)."""
    today = today or timezone.localdate()
    cases = Case.objects.select_related("registration", "assigned_to").with_next_due()
    query = (filters.get("q") or "").strip()
    # A whole registration number names one case: it is found closed or merged too, whatever the status
    # filter says (by default "Alle open zaken"), as a citizen phoning about it expects.
    if not REGISTRATION_NUMBER.match(query):
        cases = in_state(cases, filters.get("state") or wf.STATE_OPEN)
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
        # The same rule as deadline_status: at most DUE_SOON_WORKING_DAYS working days away.
        cases = cases.filter(next_due__gte=today, next_due__lt=due_soon_limit(today))
    if filters.get("assigned") == wf.ASSIGNED_ME:
        cases = cases.filter(assigned_to=user)
    elif filters.get("assigned") == wf.ASSIGNED_NOBODY:
        cases = cases.filter(assigned_to__isnull=True)
    if query:
        cases = cases.filter(search_condition(query))
    sort = filters.get("sort") or wf.SORT_DEADLINE
    if sort == wf.SORT_NEWEST:
        cases = cases.order_by("-registration__received_on", "-pk")
    elif sort == wf.SORT_NUMBER:
        cases = cases.order_by("registration__number")
    else:
        # Equal deadlines (a weekend's mail is due with Friday's): the one that has waited longest first.
        cases = cases.order_by(F("next_due").asc(nulls_last=True), "registration__received_on", "pk")
    visible_tags = CaseNorm.objects.exclude(status=TagStatus.REJECTED).select_related("norm").order_by("-status", F("score").desc(nulls_last=True))
    return cases.prefetch_related(Prefetch("norm_tags", queryset=visible_tags, to_attr="visible_tags"))


def in_state(cases, state: str):
    """The status filter: open cases (the default), one state, merged duplicates, or all."""
    if state == wf.STATE_MERGED:
        return cases.filter(merged_into__isnull=False)
    if state == wf.STATE_ALL:
        return cases
    if state in CaseState.values:
        return cases.filter(state=state, merged_into__isnull=True)
    return cases.filter(state__in=CaseState.open_states(), merged_into__isnull=True)


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
            "breadcrumbs_items": crumbs(),
            "form": form,
            "filter_controls": form.controls(),
            "page_obj": page,
            "paginator": paginator,
            "elided_page_range": paginator.get_elided_page_range(page.number),
            "rows": rows,
            "active_filters": active,
            "sort_label": dict(form.fields["sort"].choices).get(filters.get("sort") or wf.SORT_DEADLINE, ""),
            "today": today,
        },
    )
