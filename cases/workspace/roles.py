"""Who may open which page of the workspace, checked on the server for every request.

The checks are the predicates of ``cases.permissions`` (the services check the same rules
again). Wagtail already sends anonymous visitors (and users without
``wagtailadmin.access_admin``) to the login page. A logged-in user without the role gets a plain
403 page here, not Wagtail's redirect to the dashboard, so that a refused request is visible as
refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem

from cases.permissions import can_handle_cases, can_handle_data_requests, can_review_destruction, can_see_aggregates, can_use_mailroom

logger = logging.getLogger(__name__)

FORBIDDEN = _("U heeft geen toegang tot deze pagina. Deze pagina is voor: %(role)s.")
ROLE_CASES = _("kwaliteitsmedewerkers")
ROLE_MAILROOM = _("de postkamer en kwaliteitsmedewerkers")
ROLE_CASES_OR_MAILROOM = _("kwaliteitsmedewerkers en de postkamer")
ROLE_EDITORS = _("redacteuren en kwaliteitsmedewerkers")
ROLE_EDITORS_ONLY = _("redacteuren")
ROLE_ARCHIVISTS = _("de archivaris")
ROLE_CASES_OR_ARCHIVISTS = _("kwaliteitsmedewerkers en de archivaris")
ROLE_DATA_REQUESTS = _("medewerkers die AVG-verzoeken behandelen")


def forbidden(request, role: str, message: str | None = None):
    """A 403 page inside the admin that says which role the page is for (or ``message``)."""
    logger.warning("forbidden: user %s (id %s) asked %s %s", request.user.get_username(), request.user.pk, request.method, request.path)
    return render(
        request,
        "cases/admin/workspace/forbidden.html",
        {"header_title": _("Geen toegang"), "message": message or FORBIDDEN % {"role": role}},
        status=403,
    )


def role_required(check: Callable[[object], bool], role: str):
    """View decorator: the view runs only when ``check(request.user)``; otherwise a 403 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                return forbidden(request, role)
            return view(request, *args, **kwargs)

        wrapped.role_check = check
        return wrapped

    return decorator


handles_cases = role_required(can_handle_cases, ROLE_CASES)
uses_mailroom = role_required(can_use_mailroom, ROLE_MAILROOM)
handles_cases_or_mailroom = role_required(lambda user: can_handle_cases(user) or can_use_mailroom(user), ROLE_CASES_OR_MAILROOM)
sees_aggregates = role_required(can_see_aggregates, ROLE_EDITORS)
reviews_destruction = role_required(can_review_destruction, ROLE_ARCHIVISTS)
# A case's archive page holds its metadata only: the archivist sees it, and may lift a hold (an exclusion they made).
handles_cases_or_archives = role_required(lambda user: can_handle_cases(user) or can_review_destruction(user), ROLE_CASES_OR_ARCHIVISTS)
handles_data_requests = role_required(can_handle_data_requests, ROLE_DATA_REQUESTS)


class RoleMenuItem(MenuItem):
    """A menu item shown only to the users its role check lets in (the view checks again)."""

    def __init__(self, *args, check: Callable[[object], bool], **kwargs):
        self.check = check
        super().__init__(*args, **kwargs)

    def is_shown(self, request) -> bool:
        return self.check(request.user)


def page_crumbs(*items: tuple[str | None, str]) -> list[dict]:
    """Breadcrumbs from the admin's start page to this page, as Wagtail's header wants them: with them the
    header's first heading names the page (without, it holds only the icon: an empty <h1>)."""
    return [{"url": reverse("wagtailadmin_home"), "label": _("Start")}] + [{"url": url, "label": label} for url, label in items]
