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
import struct
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
# Decompression bombs: a small file that unpacks into gigabytes. Checked on the headers, before
# anything is decoded: an A4 page scanned at 600 dpi is 35 million pixels, so 60 million is room enough;
# a Word file's parts unpacked together stay far below 100 MB, and text compresses at most ~50 times.
MAX_IMAGE_PIXELS = 60_000_000
MAX_DOCX_UNPACKED = 100 * 1024 * 1024
MAX_DOCX_RATIO = 200
MAX_DOCX_PARTS = 5_000

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
FILES_CHOOSE_AGAIN = _("U had bestanden gekozen. Kies ze opnieuw: een browser bewaart ze niet na een foutmelding.")
FILE_TYPE_NOT_ALLOWED = _("Het bestand '%(name)s' is geen PDF, JPEG, PNG of Word-bestand (DOCX). Stuur het als een van die soorten mee.")
IMAGE_TOO_LARGE = _(
    "De afbeelding '%(name)s' is te groot om te verwerken (%(width)s × %(height)s pixels). Maak de afbeelding kleiner of stuur een PDF."
)
DOCX_TOO_LARGE = _("Het Word-bestand '%(name)s' wordt uitgepakt veel te groot en is daarom niet aangenomen. Stuur het als PDF.")
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


def _png_size(head: bytes) -> tuple[int, int] | None:
    # The IHDR chunk comes first: width and height are its first eight bytes.
    if len(head) >= 24 and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    return None


def _jpeg_size(file) -> tuple[int, int] | None:
    """Walk the JPEG markers to the frame header (SOFn) and read its height and width; nothing is decoded."""
    file.seek(2)
    while True:
        marker = file.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
            continue
        length_bytes = file.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
            frame = file.read(5)
            return (struct.unpack(">H", frame[3:5])[0], struct.unpack(">H", frame[1:3])[0]) if len(frame) == 5 else None
        file.seek(length - 2, os.SEEK_CUR)


def _image_size(file, content_type: str) -> tuple[int, int] | None:
    """Width and height from the image's own header, read without decoding any pixels.

    Written here rather than with Pillow: Pillow's own bomb guard raises before it reports the
    size, and its limit is process-wide state that Wagtail's image handling also relies on.
    """
    try:
        if content_type == PNG:
            return _png_size(_read_head(file, 24))
        return _jpeg_size(file)
    except (OSError, ValueError, struct.error):
        return None
    finally:
        file.seek(0)


def _docx_unpacks_too_large(file) -> bool:
    """The zip's own directory says how large its parts are unpacked; nothing is unpacked to find out."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        file.seek(0)
    unpacked = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts) or 1
    return len(parts) > MAX_DOCX_PARTS or unpacked > MAX_DOCX_UNPACKED or unpacked / packed > MAX_DOCX_RATIO


def _check_bomb(file, name: str, content_type: str) -> None:
    """Refuse a decompression bomb: an image with absurd dimensions, a Word file that unpacks to gigabytes."""
    if content_type in (PNG, JPEG):
        size = _image_size(file, content_type)
        if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
            logger.warning("upload refused: %s claims %s x %s pixels (a decompression bomb?)", _logged(name), *size)
            raise ValidationError(IMAGE_TOO_LARGE, code="bomb", params={"name": name, "width": size[0], "height": size[1]})
    elif content_type == DOCX and _docx_unpacks_too_large(file):
        logger.warning("upload refused: %s unpacks far larger than it is (a zip bomb?)", _logged(name))
        raise ValidationError(DOCX_TOO_LARGE, code="bomb", params={"name": name})


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _logged(name: str) -> str:
    """A file as the log names it: its extension only. Citizens name files after themselves ("klacht Jan de Vries.pdf")."""
    return f"a {os.path.splitext(name)[1].lower()[:10] or 'extensionless'} file"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def check_upload(file: UploadedFile, *, allowed: frozenset[str] = ATTACHMENT_TYPES) -> CheckedUpload:
    """Check one upload's size and real type; raise ValidationError with a Dutch message naming the file."""
    name = os.path.basename(file.name or "bestand")
    if file.size == 0:
        logger.info("upload refused: %s is empty", _logged(name))
        raise ValidationError(FILE_EMPTY, code="empty", params={"name": name})
    if file.size > MAX_FILE_SIZE:
        logger.info("upload refused: %s is %s bytes", _logged(name), file.size)
        raise ValidationError(FILE_TOO_LARGE, code="too_large", params={"name": name, "size": _megabytes(file.size), "max": MAX_FILE_SIZE // (1024 * 1024)})
    content_type = sniff_content_type(file)
    if content_type not in allowed:
        logger.info(
            "upload refused: %s is %s (declared %s), not one of %s",
            _logged(name), content_type or "unknown", getattr(file, "content_type", "-"), sorted(allowed),
        )
        raise ValidationError(_ERROR_FOR_TYPES.get(allowed, FILE_TYPE_NOT_ALLOWED), code="type", params={"name": name})
    _check_bomb(file, name, content_type)
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
        kwargs.setdefault("allow_empty_file", True)  # an empty file is refused by check_uploads, which names it
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


def files_again(form, field: str = "attachments") -> str:
    """After an error page: the note that the chosen files must be chosen again (a browser does not keep them),
    tied to the file field for a screen reader (its ``_note`` element, which the field's template shows)."""
    attrs = form.fields[field].widget.attrs
    attrs["aria-describedby"] = f"{attrs.get('aria-describedby', '')} {form[field].auto_id}_note".strip()
    return str(FILES_CHOOSE_AGAIN)
