"""Error views that Django's defaults cannot do in Dutch with the municipality's contact block."""

from __future__ import annotations

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

logger = logging.getLogger("handvest.security")
errors_logger = logging.getLogger("handvest.errors")


def csrf_failure(request, reason: str = ""):
    """Django's own CSRF failure view renders its template without the request, so the page could not
    show the municipality's name and contact details; this one does, and logs why."""
    logger.warning("CSRF check failed for %s %s: %s", request.method, request.path, reason)
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """The 500 page with the municipality's phone number and e-mail address, so a citizen whose
    complaint did not go through can still reach someone. Django's default view renders the page
    without any context. The contact block comes from the settings this process keeps (``cms.kept``)
    or one read; when that read fails too (the database may be why we are here), the page goes
    without it. No context processor runs: the error may lie in one of them."""
    from cms.kept import last_known
    from cms.models import MunicipalitySettings

    municipality = last_known(MunicipalitySettings)
    if municipality is None:
        try:
            municipality = MunicipalitySettings.current()
        except Exception:  # noqa: BLE001 — any failure here must not hide the error page
            errors_logger.warning("500 page without the contact block: the settings could not be read", exc_info=True)
    return HttpResponseServerError(loader.get_template("500.html").render({"municipality": municipality}))
