"""Keeping the attachments of an e-mail within the limits, and saying which ones were dropped.

At most ``HANDVEST_MAIL_MAX_ATTACHMENT_COUNT`` files, each up to ``HANDVEST_MAIL_MAX_ATTACHMENT_MB``,
together up to ``HANDVEST_MAIL_MAX_ATTACHMENTS_MB``; one beyond that is dropped with a note on the case, and the
message itself is still registered (its raw form, attachments included, is always kept).
"""

from __future__ import annotations

import hashlib
import logging
import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from cases.intake.parsing.decode import decode_header_text
from cases.intake.parsing.mime import ParsedAttachment
from cases.models import Attachment, Case, CaseEvent, EventKind, InboundMessage, Registration

logger = logging.getLogger(__name__)

ATTACHMENT_TOO_LARGE = _("Bijlage '%(name)s' (%(size)s) niet bewaard: groter dan %(limit)s per bestand.")
ATTACHMENTS_TOO_LARGE = _("Bijlage '%(name)s' (%(size)s) niet bewaard: samen met de andere bijlagen meer dan %(limit)s.")
TOO_MANY_ATTACHMENTS = _("Bijlage '%(name)s' niet bewaard: meer dan %(limit)s bijlagen in één e-mail.")
NOTE_ATTACHMENTS_DROPPED = _("Niet alle bijlagen van de e-mail zijn bewaard: %(notes)s Het originele bericht is bewaard.")


def megabytes(size: int) -> str:
    """A size as people read it in Dutch: '2,5 MB'."""
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def dropped_suffix(notes: list[str]) -> str:
    return (" " + " ".join(notes)) if notes else ""


def note_dropped(case: Case, notes: list[str]) -> None:
    """Tell the officer on the timeline which attachments were not kept."""
    if notes:
        CaseEvent.objects.create(case=case, kind=EventKind.NOTE, name="attachments_dropped", note=str(NOTE_ATTACHMENTS_DROPPED % {"notes": " ".join(notes)}))


def _refusal(part: ParsedAttachment, total: int, kept: int) -> str:
    """Why this attachment is not kept ('' when it is): too many, too large, or too much together."""
    limit = settings.HANDVEST_MAIL_MAX_ATTACHMENT_COUNT
    if kept >= limit:
        return str(TOO_MANY_ATTACHMENTS % {"name": part.filename, "limit": limit})
    return _too_large(part, total)


def _too_large(part: ParsedAttachment, total: int) -> str:
    per_file = settings.HANDVEST_MAIL_MAX_ATTACHMENT_BYTES
    total_limit = settings.HANDVEST_MAIL_MAX_ATTACHMENTS_BYTES
    if part.size > per_file:
        return str(ATTACHMENT_TOO_LARGE % {"name": part.filename, "size": megabytes(part.size), "limit": megabytes(per_file)})
    if total + part.size > total_limit:
        return str(ATTACHMENTS_TOO_LARGE % {"name": part.filename, "size": megabytes(part.size), "limit": megabytes(total_limit)})
    return ""


def _keep(part: ParsedAttachment, inbound: InboundMessage, registration: Registration) -> None:
    digest = hashlib.sha256(part.content).hexdigest()
    extension = os.path.splitext(part.filename)[1][:10].lower()
    attachment = Attachment(
        registration=registration,
        inbound_message=inbound,
        filename=decode_header_text(part.filename)[:255] or "bijlage",
        content_type=part.content_type[:100],
        size=part.size,
        sha256=digest,
    )
    attachment.file.save(digest[:32] + "".join(ch for ch in extension if ch.isalnum() or ch == "."), ContentFile(part.content), save=False)
    attachment.save()


def store_attachments(inbound: InboundMessage, attachments: list[ParsedAttachment], registration: Registration) -> list[str]:
    """Keep the attachments within the limits (per file and in total); return a note per dropped one."""
    total = kept = 0
    notes: list[str] = []
    for part in attachments:
        if part.size == 0:
            continue
        problem = _refusal(part, total, kept)
        if problem:
            notes.append(problem)
            continue
        total, kept = total + part.size, kept + 1
        _keep(part, inbound, registration)
    for note in notes:
        logger.warning("%s: %s", registration.number, note)
    return notes
