"""Decompression bombs are refused with a clear Dutch message before anything is decoded:
a PNG claiming 10 billion pixels, a DOCX whose parts unpack to far more than they weigh."""

import io
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.intake.uploads import DOCX, DOCX_TOO_LARGE, IMAGE_TOO_LARGE, check_upload
from cases.models import Registration
from tests.test_intake_webform import FORM_URL, valid_data

pytestmark = pytest.mark.django_db


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header claims width × height pixels (its data is a few KB of zeros)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100_000, 9)) + chunk(b"IEND", b"")


def docx_bomb(unpacked_mb: int = 20) -> bytes:
    """A real zip with word/document.xml that unpacks to ``unpacked_mb`` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (unpacked_mb * 1024 * 1024))
    return buffer.getvalue()


def normal_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + "Geachte heer, mevrouw. " * 200 + "</w:document>")
    return buffer.getvalue()


def test_a_png_claiming_absurd_dimensions_is_refused_before_decoding():
    bomb = png_bomb()
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError) as excinfo:
        check_upload(SimpleUploadedFile("foto.png", bomb, content_type="image/png"))
    assert excinfo.value.messages == [str(IMAGE_TOO_LARGE % {"name": "foto.png", "width": 100000, "height": 100000})]


def test_a_refused_upload_is_logged_by_its_extension_not_its_name(caplog):
    """Citizens name files after themselves; the Dutch message names the file, the log does not."""
    with caplog.at_level("INFO", logger="cases.intake.uploads"), pytest.raises(ValidationError) as excinfo:
        check_upload(SimpleUploadedFile("klacht Jan de Vries.png", png_bomb(), content_type="image/png"))
    assert "klacht Jan de Vries.png" in excinfo.value.messages[0]
    assert "upload refused: a .png file" in caplog.text and "Vries" not in caplog.text


def jpeg_claiming(width: int, height: int) -> bytes:
    """A JPEG start: an APP0 segment, then a frame header (SOF0) that claims width × height."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def test_a_jpeg_claiming_absurd_dimensions_is_refused_and_a_photo_is_not():
    with pytest.raises(ValidationError) as excinfo:
        check_upload(SimpleUploadedFile("foto.jpg", jpeg_claiming(65000, 65000)))
    assert excinfo.value.messages == [str(IMAGE_TOO_LARGE % {"name": "foto.jpg", "width": 65000, "height": 65000})]
    assert check_upload(SimpleUploadedFile("foto.jpg", jpeg_claiming(4000, 3000))).content_type == "image/jpeg"


def test_a_docx_that_unpacks_to_far_more_than_it_weighs_is_refused():
    bomb = docx_bomb()
    assert len(bomb) < 100_000
    with pytest.raises(ValidationError) as excinfo:
        check_upload(SimpleUploadedFile("brief.docx", bomb))
    assert excinfo.value.messages == [str(DOCX_TOO_LARGE % {"name": "brief.docx"})]


def test_an_ordinary_docx_and_a_scan_sized_png_are_accepted():
    assert check_upload(SimpleUploadedFile("brief.docx", normal_docx())).content_type == DOCX
    assert check_upload(SimpleUploadedFile("scan.png", png_bomb(4960, 7016))).size > 0  # an A4 page at 600 dpi


def test_the_web_form_refuses_both_bombs_in_dutch_and_registers_nothing(client, municipality):
    files = [SimpleUploadedFile("foto.png", png_bomb(), content_type="image/png"), SimpleUploadedFile("brief.docx", docx_bomb())]
    response = client.post(FORM_URL, {**valid_data(), "attachments": files})
    html = response.content.decode()
    assert response.status_code == 200
    assert "te groot om te verwerken" in html and "wordt uitgepakt veel te groot" in html
    assert not Registration.objects.exists()
