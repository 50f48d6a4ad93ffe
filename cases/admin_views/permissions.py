"""Who may open which part of the workspace, checked on the server for every request.

The roles are the groups of ``cms.roles``; the checks ask for the permissions those groups are
given in the migrations (``cms.0003``, ``cases.0002``), so a superuser passes every check and a
municipality can make its own groups:

| role | may | check |
| --- | --- | --- |
| Kwaliteitsmedewerkers | handle cases: inbox, case, triage, attachments | ``cases.handle_case`` |
| Postkamer | register scanned letters, print the PDF letters | ``cases.add_registration`` |
| Redacteuren | edit norms and pages, see aggregates; never a case or a name | ``cms.change_servicenorm`` |

Wagtail already sends anonymous visitors (and users without ``wagtailadmin.access_admin``) to
the login page. A logged-in user without the role gets a plain 403 page here, not Wagtail's
redirect to the dashboard, so that a refused request is visible as refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem

from cases.models import HANDLE_PERMISSION

logger = logging.getLogger(__name__)

MAILROOM_PERMISSION = "cases.add_registration"
EDITOR_PERMISSION = "cms.change_servicenorm"

FORBIDDEN = _("U heeft geen toegang tot deze pagina. Deze pagina is voor: %(role)s.")
ROLE_CASES = _("kwaliteitsmedewerkers")
ROLE_MAILROOM = _("de postkamer en kwaliteitsmedewerkers")
ROLE_CASES_OR_MAILROOM = _("kwaliteitsmedewerkers en de postkamer")


def can_handle_cases(user) -> bool:
    """Kwaliteitsmedewerkers (and superusers): the inbox, cases, triage and everything in them."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(HANDLE_PERMISSION))


def can_use_mailroom(user) -> bool:
    """Postkamer (and the officers, who register phone calls and counter visits too): letters and the print queue."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(MAILROOM_PERMISSION))


def can_see_aggregates(user) -> bool:
    """Redacteuren and officers see counts per norm; counts carry no names."""
    return bool(user.is_authenticated and user.is_active and (user.has_perm(EDITOR_PERMISSION) or user.has_perm(HANDLE_PERMISSION)))


def forbidden(request, role: str):
    """A 403 page inside the admin that says which role the page is for."""
    logger.warning("forbidden: user %s (id %s) asked %s %s", request.user.get_username(), request.user.pk, request.method, request.path)
    return render(
        request,
        "cases/admin/workspace/forbidden.html",
        {"header_title": _("Geen toegang"), "message": FORBIDDEN % {"role": role}},
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


class RoleMenuItem(MenuItem):
    """A menu item shown only to the users its role check lets in (the view checks again)."""

    def __init__(self, *args, check: Callable[[object], bool], **kwargs):
        self.check = check
        super().__init__(*args, **kwargs)

    def is_shown(self, request) -> bool:
        return self.check(request.user)
