"""Private files of a case, served after the permission check: attachments, the original e-mail, letter PDFs."""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.correspondence.pdf import pdf_filename
from cases.correspondence.post import IN_THE_MAILROOM
from cases.models import Attachment, InboundMessage, OutgoingMessage
from cases.permissions import can_handle_cases
from cases.records.read_log import record_read
from cases.workspace.roles import handles_cases, handles_cases_or_mailroom

logger = logging.getLogger(__name__)

FILE_MISSING = _("Het bestand is niet (meer) aanwezig.")


def private_file_response(field, *, filename: str, content_type: str, inline: bool = False):
    """Serve a file from private storage, after the caller checked the permission; never cached, never sniffed."""
    if not field:
        raise Http404(FILE_MISSING)
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        logger.error("private file %s is missing from storage", field.name)
        raise Http404(FILE_MISSING)
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_GET
@handles_cases
def attachment_download(request, pk: int):
    """An attachment of a registration (upload, scan, e-mail attachment)."""
    attachment = get_object_or_404(Attachment.objects.select_related("registration", "inbound_message"), pk=pk)
    logger.info("attachment %s downloaded by %s", attachment.pk, request.user.get_username())
    record_read(request, attachment, attachment.registration, email=attachment.inbound_message.from_address if attachment.inbound_message else "")
    return private_file_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type, inline=attachment.content_type == "application/pdf"
    )


@require_GET
@handles_cases
def original_download(request, pk: int):
    """The e-mail exactly as it arrived (.eml)."""
    message = get_object_or_404(InboundMessage.objects.select_related("registration"), pk=pk)
    logger.info("original message %s downloaded by %s", message.pk, request.user.get_username())
    record_read(request, message, message.registration, email=message.from_address)
    return private_file_response(message.raw, filename=f"bericht-{message.pk}.eml", content_type="message/rfc822")


@require_GET
@handles_cases_or_mailroom
def letter_pdf(request, pk: int):
    """The PDF of a letter to a citizen: officers any letter, the mailroom only the letters in its print queue."""
    letters = OutgoingMessage.objects.select_related("case__registration")
    if not can_handle_cases(request.user):
        letters = letters.filter(status__in=IN_THE_MAILROOM)
    letter = get_object_or_404(letters, pk=pk)
    logger.info("letter pdf %s opened by %s", letter.pk, request.user.get_username())
    record_read(request, letter, letter.case.registration)
    return private_file_response(letter.pdf, filename=pdf_filename(letter, letter.case), content_type="application/pdf", inline=True)
