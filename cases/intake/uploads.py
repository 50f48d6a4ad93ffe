"""Attachments that citizens and the mailroom upload: checked by what the bytes are, not by their name.

A file called ``brief.pdf`` that is really an executable is refused; a PDF called ``scan`` is
accepted. Accepted types are PDF, JPEG, PNG and DOCX (a zip holding ``word/document.xml``);
at most ``MAX_FILES`` files of at most ``MAX_FILE_SIZE`` bytes each. The form field and widget
here are shared by the web form and the officers' letter form.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from cases.models import Attachment, Registration

logger = logging.getLogger(__name__)

MAX_FILES = 5
MAX_FILE_SIZE = 10 * 1024 * 1024  # 10 MB

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ATTACHMENT_TYPES = frozenset({PDF, JPEG, PNG, DOCX})
SCAN_TYPES = frozenset({PDF, JPEG, PNG})
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", DOCX: ".docx"}

TOO_MANY_FILES = _("U kunt ten hoogste %(max)s bestanden meesturen; u koos er %(count)s.")
FILE_TOO_LARGE = _("Het bestand '%(name)s' is te groot (%(size)s MB). Een bestand mag ten hoogste %(max)s MB zijn.")
FILE_EMPTY = _("Het bestand '%(name)s' is leeg.")
FILE_TYPE_NOT_ALLOWED = _("Het bestand '%(name)s' is geen PDF, JPEG, PNG of Word-bestand (DOCX). Stuur het als een van die soorten mee.")
SCAN_TYPE_NOT_ALLOWED = _("Het bestand '%(name)s' is geen PDF, JPEG of PNG. Scan de brief als PDF of als afbeelding.")

_ERROR_FOR_TYPES = {ATTACHMENT_TYPES: FILE_TYPE_NOT_ALLOWED, SCAN_TYPES: SCAN_TYPE_NOT_ALLOWED}


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks: its real type, size and SHA-256."""

    file: UploadedFile
    filename: str
    content_type: str
    size: int
    sha256: str


def _read_head(file, length: int = 16) -> bytes:
    file.seek(0)
    head = file.read(length)
    file.seek(0)
    return head


def _is_docx(file) -> bool:
    """A DOCX is a zip whose central directory lists word/document.xml; nothing is decompressed."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        file.seek(0)


def sniff_content_type(file) -> str | None:
    """The type the bytes say this file is (one of ATTACHMENT_TYPES), or None."""
    head = _read_head(file)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04") and _is_docx(file):
        return DOCX
    return None


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def check_upload(file: UploadedFile, *, allowed: frozenset[str] = ATTACHMENT_TYPES) -> CheckedUpload:
    """Check one upload's size and real type; raise ValidationError with a Dutch message naming the file."""
    name = os.path.basename(file.name or "bestand")
    if file.size == 0:
        logger.info("upload refused: %r is empty", name)
        raise ValidationError(FILE_EMPTY, code="empty", params={"name": name})
    if file.size > MAX_FILE_SIZE:
        logger.info("upload refused: %r is %s bytes", name, file.size)
        raise ValidationError(FILE_TOO_LARGE, code="too_large", params={"name": name, "size": _megabytes(file.size), "max": MAX_FILE_SIZE // (1024 * 1024)})
    content_type = sniff_content_type(file)
    if content_type not in allowed:
        logger.info(
            "upload refused: %r is %s (declared %s), not one of %s", name, content_type or "unknown", getattr(file, "content_type", "-"), sorted(allowed)
        )
        raise ValidationError(_ERROR_FOR_TYPES.get(allowed, FILE_TYPE_NOT_ALLOWED), code="type", params={"name": name})
    return CheckedUpload(file=file, filename=name, content_type=content_type, size=file.size, sha256=_sha256(file))


def check_uploads(files: Sequence[UploadedFile], *, allowed: frozenset[str] = ATTACHMENT_TYPES, max_files: int = MAX_FILES) -> list[CheckedUpload]:
    """Check a set of uploads; every problem is reported, not only the first."""
    if len(files) > max_files:
        logger.info("upload refused: %s files, at most %s", len(files), max_files)
        raise ValidationError(TOO_MANY_FILES, code="too_many", params={"max": max_files, "count": len(files)})
    checked, problems = [], []
    for file in files:
        try:
            checked.append(check_upload(file, allowed=allowed))
        except ValidationError as exc:
            problems.extend(exc.error_list)
    if problems:
        raise ValidationError(problems)
    return checked


def attachments_store(*, registration: Registration, uploads: Iterable[CheckedUpload]) -> list[Attachment]:
    """Store checked uploads privately with the registration; the stored name is ours, the original is kept."""
    stored = []
    for upload in uploads:
        base, _ext = os.path.splitext(upload.filename)
        safe_name = (get_valid_filename(base)[:80] or "bijlage") + EXTENSIONS[upload.content_type]
        upload.file.seek(0)
        attachment = Attachment(
            registration=registration,
            filename=upload.filename[:255],
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )
        attachment.file.save(safe_name, upload.file, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


class MultipleFileInput(forms.FileInput):
    """A file input that lets the citizen pick several files at once (``multiple``)."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; ``clean`` returns the list of CheckedUpload.

    ``allowed`` and ``max_files`` make it fit both the citizen's attachments and the mailroom's scan.
    """

    def __init__(self, *args, allowed: frozenset[str] = ATTACHMENT_TYPES, max_files: int = MAX_FILES, **kwargs):
        self.allowed = allowed
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        for file in files:
            super().clean(file, initial)
        return check_uploads(files, allowed=self.allowed, max_files=self.max_files)


class ScanField(forms.FileField):
    """One scanned letter: PDF, JPEG or PNG, checked by content; ``clean`` returns a CheckedUpload."""

    def clean(self, data, initial=None):
        file = super().clean(data, initial)
        if not file:
            return None
        return check_upload(file, allowed=SCAN_TYPES)
