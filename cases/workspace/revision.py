"""The editors' side of the aggregates in the Wagtail admin (hooks in ``cases/wagtail_hooks.py``,
so that ``cms`` imports nothing of ``cases``):

* the revision dashboard ("Herziening"): every norm with its figures, our compliance, the annual
  report as PDF, CSV or JSON, the choice to publish last year's figures on the charter page, and
  the charter versions (start a new version with the norms as drafts; publish it at once);
* a norm's figures, from its editor's action menu and from the list of norms;
* the norm's figures as a panel above the fields in its editor. Wagtail has no hook that adds a
  panel to another app's snippet form, so a few lines of script fetch the panel
  (server-rendered, permission-checked HTML) into the editor; without script the action-menu
  link still leads there.

Editors see counts, rates and trends only, never a case, a name, an address or a text.
"""

from __future__ import annotations

import datetime
import json
import logging
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from wagtail.snippets.action_menu import ActionMenuItem

from cases.measurements import attainment
from cases.measurements.charts import attainment_chart
from cases.models import Kind, PublicFigures
from cases.permissions import EDIT_NORMS, can_see_aggregates
from cases.reporting import aggregates, compliance, figures, periods, satisfaction
from cases.reporting.charts import Series, column_chart
from cases.reporting.report import CONTENT_TYPES, FORMATS, ReportError, report_build, report_filename, report_render
from cases.workflow.deadlines import charter_terms
from cases.workspace.roles import ROLE_EDITORS_ONLY, forbidden, page_crumbs, sees_aggregates
from cms import versions as revision
from cms.models import Charter, ServiceNorm

logger = logging.getLogger(__name__)


BAD_PERIOD = _("Onbekende periode; de cijfers van dit jaar worden getoond.")
DONE_VERSION = _("Nieuwe versie ‘%(title)s’ gestart: %(count)s normen staan als concept klaar. Publiceer ze samen als de herziening klaar is.")
DONE_PUBLISH = _("%(count)s normen van ‘%(title)s’ gepubliceerd; de handvestpagina toont nu deze versie.")
DONE_PUBLIC_ON = _("De cijfers van vorig jaar staan nu bij elke norm op de handvestpagina.")
DONE_PUBLIC_OFF = _("De cijfers staan niet meer op de handvestpagina.")
VERSION_FORM_INCOMPLETE = _("Vul het jaar en de titel van de nieuwe versie in.")


def _this_year() -> str:
    return str(timezone.localdate().year)


def _chosen_period(request) -> str:
    key = request.GET.get("periode") or _this_year()
    try:
        start, _end = periods.period_range(key)
        if not 1990 <= start.year <= 2100:
            raise ValueError(key)  # year 1 has no year before it to compare with (OverflowError)
    except ValueError:
        messages.warning(request, BAD_PERIOD)
        return _this_year()
    return key


def _period_choices(today: datetime.date) -> list[tuple[str, str]]:
    keys = [str(today.year), str(today.year - 1)]
    keys += periods.period_keys(datetime.date(today.year - 1, 1, 1), datetime.date(today.year, 12, 31), "quarter")[::-1]
    return [(key, periods.period_label(key)) for key in keys]


# --- the revision dashboard -----------------------------------------------------------------------


class NewVersionForm(forms.Form):
    year = forms.IntegerField(label=_("jaar van de nieuwe versie"), min_value=1990, max_value=2100)
    title = forms.CharField(label=_("titel"), max_length=200)


@require_GET
@sees_aggregates
def dashboard(request):
    period = _chosen_period(request)
    start, end = periods.period_range(period)
    today = timezone.localdate()
    overview = aggregates.norm_overview(period=period)
    current = revision.current_charter()
    pending = revision.pending_versions()
    new_version_form = None
    if current is not None:
        year = revision.default_new_year(source=current, today=today)
        new_version_form = NewVersionForm(initial={"year": year, "title": re.sub(r"\b\d{4}\b", str(year), current.title) if current.title else ""})
    context = {
        "header_title": _("Herziening van het handvest"),
        "breadcrumbs_items": page_crumbs((None, _("Herziening van het handvest"))),
        "header_icon": "table",
        "period": period,
        "period_label": periods.period_label(period),
        "previous_label": periods.period_label(periods.previous_period_key(period)),
        "period_choices": _period_choices(today),
        "overview": overview,
        "top_complaints": aggregates.top_norms(period=period, kind=Kind.COMPLAINT),
        "top_suggestions": aggregates.top_norms(period=period, kind=Kind.SUGGESTION),
        "compliance": compliance.compliance_figures(start=start, end=end, as_of=today),
        "terms": charter_terms(),
        "threshold": figures.small_cell_threshold(),
        "report_years": list(range(today.year, today.year - 5, -1)),
        "report_formats": FORMATS,
        "public_figures": PublicFigures.load(),
        "current_charter": current,
        "pending_versions": pending,
        "new_version_form": new_version_form if not pending else None,
        "can_revise": all(request.user.has_perm(name) for name in revision.START_PERMISSIONS),
        "can_publish": all(request.user.has_perm(name) for name in revision.PUBLISH_PERMISSIONS),
        "can_change_public_figures": request.user.has_perm(EDIT_NORMS),
    }
    return render(request, "cases/admin/reports/dashboard.html", context)


# --- one norm ----------------------------------------------------------------------------------------


def _norm_panel_context(norm: ServiceNorm) -> dict:
    today = timezone.localdate()
    end = periods.period_range(periods.period_key(today, "month"))[1]
    start = datetime.date(end.year - 1, end.month, 1)
    months = aggregates.norm_series(code=norm.code, period="month", start=start, end=end)
    quarters = aggregates.norm_series(code=norm.code, period="quarter", start=datetime.date(today.year - 1, 1, 1), end=end)
    years = aggregates.norm_series(code=norm.code, period="year", start=datetime.date(today.year - 4, 1, 1), end=end)
    aggregates.protect_series(months, quarters, years)  # no small month worked out from its year
    chart = column_chart(
        title=str(_("Per maand (laatste 12 maanden)")),
        categories=[periods.period_short_label(row.period) for row in months],
        series=[
            Series(str(_("klachten")), [row.complaints.shown for row in months], [str(row.complaints) for row in months]),
            Series(str(_("suggesties")), [row.suggestions.shown for row in months], [str(row.suggestions) for row in months]),
        ],
        width=560,
        height=200,
    )
    return {
        "norm": norm,
        "months": months,
        "quarters": quarters,
        "years": years,
        "chart": chart,
        "threshold": figures.small_cell_threshold(),
        "satisfaction": [(year, satisfaction.satisfaction_of_norm(code=norm.code, year=year)) for year in (today.year - 1, today.year)],
    } | _attainment_context(norm, today, end)


def _attainment_context(norm: ServiceNorm, today: datetime.date, end: datetime.date) -> dict:
    """The norm's attainment per its own period since the same quarter last year, with a chart when it has a measurable target."""
    # From the start of the norm's own period (a yearly norm: 1 January), so each period is judged whole, as in the report.
    start = periods.period_range(periods.period_key(datetime.date(today.year - 1, (today.month - 1) // 3 * 3 + 1, 1), norm.measurement_period))[0]
    (attained,) = attainment.norm_attainment(start=start, end=end, norms=[norm], as_of=today)
    chart = None
    if attained.measurable:
        title = str(_("Binnen de norm per periode"))
        chart = attainment_chart(ident=f"norm-{norm.pk}-attainment", title=title, periods=attained.periods, required=attained.versions[-1].required_share)
    return {"attainment": attained, "attainment_chart": chart}


@require_GET
@sees_aggregates
def norm_figures(request, pk: int):
    norm = get_object_or_404(ServiceNorm, pk=pk)
    context = _norm_panel_context(norm) | {
        "header_title": _("Cijfers van %(code)s") % {"code": norm.code},
        "breadcrumbs_items": page_crumbs((reverse("handvest_revision:dashboard"), _("Herziening")), (None, _("Cijfers van %(code)s") % {"code": norm.code})),
        "header_icon": "table",
        "edit_url": reverse("wagtailsnippets_cms_servicenorm:edit", args=[norm.pk]),
    }
    return render(request, "cases/admin/reports/norm.html", context)


@require_GET
@sees_aggregates
def norm_panel(request, pk: int):
    """The panel alone, for the norm's editor (fetched by the script of ``insert_editor_js``)."""
    norm = get_object_or_404(ServiceNorm, pk=pk)
    return render(request, "cases/admin/reports/_norm_panel.html", _norm_panel_context(norm) | {"in_editor": True})


# --- the annual report ---------------------------------------------------------------------------------


@require_GET
@sees_aggregates
def report_download(request, year: int, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    try:
        report = report_build(year=year)
        content = report_render(report=report, fmt=fmt)
    except ReportError as exc:
        logger.warning("report %s.%s refused for %s: %s", year, fmt, request.user.get_username(), exc)
        messages.error(request, str(exc))
        return redirect("handvest_revision:dashboard")
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{report_filename(year=year, fmt=fmt)}"'
    return response


# --- actions -----------------------------------------------------------------------------------------


@require_POST
@sees_aggregates
def public_figures(request):
    if not request.user.has_perm(EDIT_NORMS):
        return forbidden(request, ROLE_EDITORS_ONLY)
    setting = PublicFigures.load()
    setting.show_on_charter = request.POST.get("show_on_charter") == "on"
    setting.changed_at = timezone.now()
    setting.changed_by = request.user
    setting.save()
    logger.info("public figures on the charter page %s by %s", "on" if setting.show_on_charter else "off", request.user.get_username())
    messages.success(request, DONE_PUBLIC_ON if setting.show_on_charter else DONE_PUBLIC_OFF)
    return redirect("handvest_revision:dashboard")


@require_POST
@sees_aggregates
def start_version(request):
    source = revision.current_charter()
    form = NewVersionForm(request.POST)
    if source is None or not form.is_valid():
        logger.info("start_version: incomplete form from %s", request.user.get_username())
        messages.error(request, VERSION_FORM_INCOMPLETE)
        return redirect("handvest_revision:dashboard")
    try:
        charter = revision.charter_start_version(source=source, year=form.cleaned_data["year"], title=form.cleaned_data["title"], actor=request.user)
    except PermissionDenied as exc:
        logger.warning("start_version refused for %s", request.user.get_username())
        messages.error(request, str(exc))
        return redirect("handvest_revision:dashboard")
    except ValidationError as exc:
        logger.info("start_version refused: %s", exc.messages)
        messages.error(request, " ".join(exc.messages))
        return redirect("handvest_revision:dashboard")
    count = sum(pending.drafts for pending in revision.pending_versions() if pending.charter.pk == charter.pk)
    messages.success(request, DONE_VERSION % {"title": charter.title, "count": count})
    return redirect("handvest_revision:dashboard")


@require_POST
@sees_aggregates
def publish_version(request, pk: int):
    charter = get_object_or_404(Charter, pk=pk)
    try:
        count = revision.charter_publish_version(charter=charter, actor=request.user)
    except PermissionDenied as exc:
        logger.warning("publish_version refused for %s", request.user.get_username())
        messages.error(request, str(exc))
        return redirect("handvest_revision:dashboard")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("handvest_revision:dashboard")
    messages.success(request, DONE_PUBLISH % {"count": count, "title": charter.title})
    return redirect("handvest_revision:dashboard")


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("norm/<int:pk>/", norm_figures, name="norm"),
    path("norm/<int:pk>/paneel/", norm_panel, name="norm_panel"),
    path("rapportage/<int:year>.<str:fmt>", report_download, name="report"),
    path("openbaar/", public_figures, name="public_figures"),
    path("nieuwe-versie/", start_version, name="start_version"),
    path("versie/<int:pk>/publiceren/", publish_version, name="publish_version"),
]


# --- in the norm's editor -------------------------------------------------------------------------
class NormFiguresMenuItem(ActionMenuItem):
    """'Cijfers van deze norm' in the action menu of a norm's editor."""

    label = _("Cijfers van deze norm")
    name = "action-norm-figures"
    icon_name = "table"
    order = 900

    def is_shown(self, context):
        return context.get("view") == "edit" and context.get("instance") is not None and can_see_aggregates(context["request"].user)

    def get_url(self, parent_context):
        return reverse("handvest_revision:norm", args=[parent_context["instance"].pk])


PANEL_SCRIPT = """<script>
(function () {
  // Wagtail puts this in the page's <head>: wait until the editor's form exists.
  function mount() {
    var match = window.location.pathname.match(new RegExp(%(pattern)s));
    var form = document.getElementById("w-editor-form");
    if (!match || !form || document.getElementById("handvest-norm-figures")) return;
    var url = %(url)s.replace("/0/", "/" + match[1] + "/");
    fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "XMLHttpRequest"}})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("section");
        holder.id = "handvest-norm-figures";
        holder.setAttribute("aria-label", "Cijfers van deze norm");
        holder.innerHTML = html;
        form.parentNode.insertBefore(holder, form);
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
</script>"""


def norm_figures_panel_js():
    """On a norm's edit page only, fetch its figures panel and show it above the fields."""
    edit_path = reverse("wagtailsnippets_cms_servicenorm:edit", args=[0])
    pattern = "^" + re.escape(edit_path).replace("/0/", r"/(\d+)/") + "$"
    url = reverse("handvest_revision:norm_panel", args=[0])
    # Both values are our own URL patterns (no user input); json.dumps makes them JS strings.
    return mark_safe(PANEL_SCRIPT % {"pattern": json.dumps(pattern), "url": json.dumps(url)})  # noqa: S308
