"""The measurements page in the Wagtail admin (``/beheer/metingen/``, menu "Metingen").

Quality officers upload a measurement file (CSV, the format of ``cases.measurements.importing``);
a file with a bad line is refused whole and every bad line is shown with its number and reason.
Editors and officers see per measured norm its latest period: observations, share within the
target and whether it was met. Registered in ``cases/wagtail_hooks.py``.
"""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from cases.measurements.attainment import latest_attainment
from cases.measurements.importing import MeasurementFileRefused, measurements_import
from cases.models import MeasurementImport, MeasurementSource
from cases.permissions import can_handle_cases
from cases.workspace.roles import handles_cases, page_crumbs, sees_aggregates

logger = logging.getLogger(__name__)

DONE = _("%(name)s geïmporteerd: %(rows)s regels, %(added)s nieuw, %(updated)s bijgewerkt, %(unchanged)s waren er al.")
DONE_REPLACED = _(" %(replaced)s eerder ingelezen totalen zijn vervangen door de langere totalen uit dit bestand.")
REFUSED = _("%(name)s is geweigerd; er is niets geïmporteerd. Verbeter deze regels en importeer het bestand opnieuw:")
RECENT_IMPORTS = 10
TOO_LARGE = _(
    "%(name)s is te groot om hier te importeren (%(size)s MB; hier kan tot %(limit)s MB). Er is niets geïmporteerd. "
    "Importeer het op de server met: python manage.py import_measurements BESTAND, of splits het in kleinere bestanden."
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV-bestand"),
        help_text=_("Eén meting per regel (norm,observed_at,value) of tellingen per periode (norm,period_start,period_end,observations,within_target)."),
    )
    source = forms.ChoiceField(label=_("bron"), choices=MeasurementSource.choices, initial=MeasurementSource.TELEPHONY)

    def clean_file(self):
        """A file too large to import within one web request is refused before it is read, saying how to import it."""
        upload_file = self.cleaned_data["file"]
        limit = settings.HANDVEST_MEASUREMENT_UPLOAD_MB
        if upload_file.size > limit * 1024 * 1024:
            logger.warning("measurement file %s refused: %d bytes, over the upload limit of %d MB", upload_file.name, upload_file.size, limit)
            raise forms.ValidationError(TOO_LARGE % {"name": upload_file.name, "size": round(upload_file.size / 1024 / 1024), "limit": limit})
        return upload_file


def _render(request, *, form: UploadForm | None, problems: list[str] | None = None, refused_name: str = "", status: int = 200):
    context = {
        "header_title": _("Metingen"),
        "breadcrumbs_items": page_crumbs((None, _("Metingen"))),
        "header_icon": "table",
        "form": form,
        "problems": problems or [],
        "refused": REFUSED % {"name": refused_name} if problems else "",
        "latest": latest_attainment(),
        "imports": MeasurementImport.objects.select_related("imported_by")[:RECENT_IMPORTS],
    }
    return render(request, "cases/admin/measurements/overview.html", context, status=status)


@require_GET
@sees_aggregates
def overview(request):
    return _render(request, form=UploadForm() if can_handle_cases(request.user) else None)


@require_POST
@handles_cases
def upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    upload_file = form.cleaned_data["file"]
    try:
        result = measurements_import(stream=upload_file.file, file_name=upload_file.name, source=form.cleaned_data["source"], actor=request.user)
    except MeasurementFileRefused as exc:
        logger.info("measurement file %s refused for %s: %d problems", upload_file.name, request.user.get_username(), len(exc.problems) + exc.more)
        return _render(
            request, form=UploadForm(initial={"source": form.cleaned_data["source"]}), problems=exc.messages, refused_name=upload_file.name, status=400
        )
    values = {"name": upload_file.name, "rows": result.rows, "added": result.added, "updated": result.updated, "unchanged": result.unchanged}
    messages.success(request, DONE % values + (DONE_REPLACED % {"replaced": result.replaced} if result.replaced else ""))
    return redirect("handvest_measurements:overview")


urlpatterns = [
    path("", overview, name="overview"),
    path("importeren/", upload, name="upload"),
]
