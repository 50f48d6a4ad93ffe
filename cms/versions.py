"""The periodic revision of the charter: a new charter version whose norms are drafts until
they are published together.

Starting a version creates the new ``Charter`` and saves, for every active norm of the current
version, a draft revision that points at the new version (the norm's pending draft, if any, is
kept as its starting point); nothing changes on the public site. Publishing the version
publishes all those drafts and moves the charter page to the new version, in one transaction.
The revision dashboard (``cases.workspace.revision``) calls it; it touches only ``cms`` models,
through Wagtail's own revision API.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cms.models import Charter, CharterPage, ServiceNorm, charter_in_force

logger = logging.getLogger(__name__)

START_PERMISSIONS = ("cms.add_charter", "cms.change_servicenorm")
PUBLISH_PERMISSIONS = ("cms.publish_servicenorm",)

VERSION_EXISTS = _("Er bestaat al een handvest met de sleutel %(key)s.")
VERSION_IN_PROGRESS = _("Er staat al een nieuwe versie in concept klaar (%(title)s). Publiceer die eerst, of werk verder in die versie.")
VERSION_YEAR_NOT_LATER = _("Het jaar van de nieuwe versie moet na %(year)s liggen.")
VERSION_YEAR_INVALID = _("Vul een jaar tussen 1990 en 2100 in.")
VERSION_TITLE_EMPTY = _("Geef de nieuwe versie een titel.")
NOTHING_TO_PUBLISH = _("Er zijn geen concepten van %(title)s om te publiceren.")
NO_REVISION_PERMISSION = _("U mag geen nieuwe versie van het handvest starten of publiceren.")
PAGE_NOT_PUBLISHABLE = _("U mag de handvestpagina niet publiceren; vraag een redacteur met publicatierechten.")


@dataclass(frozen=True)
class PendingVersion:
    """A charter version whose norms are (partly) drafts, not yet on the public page."""

    charter: Charter
    drafts: int


def _require(user, permissions) -> None:
    if user is None or not all(user.has_perm(permission) for permission in permissions):
        raise PermissionDenied(NO_REVISION_PERMISSION)


def current_charter() -> Charter | None:
    """The version the public charter page shows (the newest one when there are several pages; the newest
    version when no page is live): the one whose norms are in force (``ServiceNorm.objects.published_active``)."""
    return Charter.objects.filter(pk=charter_in_force()).first()


def _draft_charter_ids() -> dict[int, int]:
    """Charter id → number of norms whose latest (unpublished) revision points at it, for charters no live page shows."""
    shown = set(CharterPage.objects.live().values_list("charter_id", flat=True))
    counts: dict[int, int] = {}
    for norm in ServiceNorm.objects.filter(has_unpublished_changes=True).select_related("latest_revision"):
        revision = norm.latest_revision
        charter_id = revision.content.get("charter") if revision is not None else None
        if charter_id is not None and charter_id not in shown:
            counts[charter_id] = counts.get(charter_id, 0) + 1
    return counts


def pending_versions() -> list[PendingVersion]:
    counts = _draft_charter_ids()
    return [PendingVersion(charter=charter, drafts=counts[charter.pk]) for charter in Charter.objects.filter(pk__in=counts).order_by("year")]


def new_version_key(*, source: Charter, year: int) -> str:
    """``harlingen-2017`` → ``harlingen-2027``; a key without a year gets one."""
    stem = re.sub(r"-\d{4}$", "", source.key)
    return f"{stem}-{year}"


def charter_start_version(*, source: Charter, year: int, title: str, actor) -> Charter:
    """Create the new version and save every active norm of ``source`` as a draft of it."""
    _require(actor, START_PERMISSIONS)
    if not 1990 <= year <= 2100:
        raise ValidationError({"year": VERSION_YEAR_INVALID})
    if year <= source.year:
        raise ValidationError({"year": VERSION_YEAR_NOT_LATER % {"year": source.year}})
    if not title.strip():
        raise ValidationError({"title": VERSION_TITLE_EMPTY})
    key = new_version_key(source=source, year=year)
    with transaction.atomic():
        pending = pending_versions()
        if pending:
            raise ValidationError(VERSION_IN_PROGRESS % {"title": pending[0].charter.title})
        if Charter.objects.filter(key=key).exists():
            raise ValidationError({"year": VERSION_EXISTS % {"key": key}})
        charter = Charter.objects.create(
            key=key,
            title=title.strip(),
            year=year,
            introduction=source.introduction,
            how_it_works=source.how_it_works,
            complaints_text=source.complaints_text,
            suggestions_text=source.suggestions_text,
        )
        copied = 0
        for norm in ServiceNorm.objects.filter(charter=source, active=True).order_by("pk"):
            draft = norm.get_latest_revision_as_object()
            draft.charter = charter
            draft.save_revision(user=actor, log_action=True)
            copied += 1
    logger.info("charter version %s started from %s by %s: %d norms as drafts", key, source.key, actor.get_username(), copied)
    return charter


def charter_publish_version(*, charter: Charter, actor) -> int:
    """Publish every norm draft of ``charter`` and point the live charter pages at it; all or nothing."""
    _require(actor, PUBLISH_PERMISSIONS)
    with transaction.atomic():
        drafts = []
        for norm in ServiceNorm.objects.filter(has_unpublished_changes=True).select_related("latest_revision").select_for_update(of=("self",)):
            revision = norm.latest_revision
            if revision is not None and revision.content.get("charter") == charter.pk:
                drafts.append(revision)
        if not drafts:
            raise ValidationError(NOTHING_TO_PUBLISH % {"title": charter.title})
        pages = list(CharterPage.objects.live().exclude(charter=charter))
        for page in pages:
            if not page.permissions_for_user(actor).can_publish():
                raise PermissionDenied(PAGE_NOT_PUBLISHABLE)
        for revision in drafts:
            revision.publish(user=actor)
        for page in pages:
            page.charter = charter
            page.title = charter.title
            page.save_revision(user=actor, log_action=True).publish(user=actor)
    logger.info("charter version %s published by %s: %d norms, %d pages", charter.key, actor.get_username(), len(drafts), len(pages))
    return len(drafts)


def default_new_year(*, source: Charter, today: datetime.date) -> int:
    return max(source.year + 1, today.year)
