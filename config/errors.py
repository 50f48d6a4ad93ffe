"""Error views that Django's defaults cannot do in Dutch with the municipality's contact block."""

from __future__ import annotations

import logging

from django.shortcuts import render

logger = logging.getLogger("handvest.security")


def csrf_failure(request, reason: str = ""):
    """Django's own CSRF failure view renders its template without the request, so the page could not
    show the municipality's name and contact details; this one does, and logs why."""
    logger.warning("CSRF check failed for %s %s: %s", request.method, request.path, reason)
    return render(request, "403_csrf.html", status=403)
