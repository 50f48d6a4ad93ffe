"""Who may do what: the permission codenames, named once, and the role checks built on them.

The roles are the groups of ``cms.roles`` (``ARCHIVISTS`` included); the migrations (``cms.0003``, ``cases.0002``,
``cases.0008``, ``cases.0013``) give each group these permissions, so a superuser passes every check and a
municipality can make its own groups:

| role | may | permission |
| --- | --- | --- |
| Kwaliteitsmedewerkers | handle cases: inbox, case, triage, letters, attachments | ``HANDLE_CASE`` |
| Postkamer | register letters, phone calls and counter visits; print the PDF letters | ``REGISTER_POST`` |
| Postkamer, Kwaliteitsmedewerkers | correct the text read from a scanned letter | ``CORRECT_LETTER_TEXT`` |
| Redacteuren | edit norms and pages, see aggregates; never a case or a name | ``EDIT_NORMS`` |
| Archivarissen | the retention table; review and approve destruction lists (metadata, never a case) | ``REVIEW_DESTRUCTION``, ``EDIT_RETENTION`` |
| Kwaliteitsmedewerkers | citizens' requests: export everything held about a person, rectify, erase | ``HANDLE_DATA_REQUESTS`` |

Services check these themselves (``require``), so a view, a task and the shell all meet the
same rule; the workspace's view decorators use the predicates below to show a 403 page early.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied

from cms.roles import ARCHIVISTS  # noqa: F401  (re-exported: the archivist's group, made by migration cases.0013)

logger = logging.getLogger(__name__)

HANDLE_CASE = "cases.handle_case"
REGISTER_POST = "cases.add_registration"
CORRECT_LETTER_TEXT = "cases.correct_letter_text"
EDIT_NORMS = "cms.change_servicenorm"
REVIEW_DESTRUCTION = "cases.review_destruction"
EDIT_RETENTION = "cases.change_resulttype"
HANDLE_DATA_REQUESTS = "cases.handle_data_requests"



def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_handle_cases(user) -> bool:
    """Kwaliteitsmedewerkers (and superusers): the inbox, cases, triage and everything in them."""
    return _active(user) and user.has_perm(HANDLE_CASE)


def can_use_mailroom(user) -> bool:
    """Postkamer (and the officers, who register phone calls and counter visits too): letters and the print queue."""
    return _active(user) and user.has_perm(REGISTER_POST)


def can_see_aggregates(user) -> bool:
    """Redacteuren and officers see counts per norm; counts carry no names."""
    return _active(user) and (user.has_perm(EDIT_NORMS) or user.has_perm(HANDLE_CASE))


def can_review_destruction(user) -> bool:
    """Archivarissen (and superusers): destruction lists, with the metadata of cases only, never their content."""
    return _active(user) and user.has_perm(REVIEW_DESTRUCTION)


def can_handle_data_requests(user) -> bool:
    """Who answers citizens' requests about their data (AVG art. 15-17): by default the quality officers."""
    return _active(user) and user.has_perm(HANDLE_DATA_REQUESTS)


def require(actor, *permissions: str, message) -> None:
    """Refuse ``actor`` unless it holds one of ``permissions``; ``actor`` None is the system (a task)."""
    if actor is not None and not any(actor.has_perm(permission) for permission in permissions):
        logger.warning("refused for %s: needs %s", actor, " or ".join(permissions))
        raise PermissionDenied(message)
