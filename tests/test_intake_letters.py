"""Letters: the mailroom registers a scan; its text comes from the PDF's text layer or from Dutch OCR.

The scans are made by the tests: a Dutch letter rendered to an image with Pillow (and saved as
an image-only PDF), or typed HTML rendered to a PDF with a text layer by WeasyPrint.
"""

import datetime
import io
import logging
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cases import errors, tasks
from cases.intake import ocr as extraction
from cases.intake import uploads
from cases.intake.forms import LetterForm
from cases.intake.letters import (
    LETTER_CORRECT_NO_PERMISSION,
    LETTER_NO_PERMISSION,
    LETTER_TEXT_EMPTY,
    letter_correct_text,
    letter_may_correct,
    letter_register,
)
from cases.models import Attachment, Case, CaseEvent, CaseState, Registration, TriageState
from cases.workflow.registration import Sender
from cms.roles import EDITORS, MAILROOM, QUALITY_OFFICERS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

needs_ocr = pytest.mark.skipif(
    not (extraction.tesseract_available() and extraction.pdftoppm_available()),
    reason="needs Tesseract with Dutch and pdftoppm: `make system-deps` installs tesseract-ocr, tesseract-ocr-nld and poppler-utils",
)

LETTER_LINES = [
    "Gemeente Harlingen",
    "Postbus 10000",
    "8860 HA Harlingen",
    "",
    "Harlingen, 3 maart 2026",
    "",
    "Betreft: klacht over de wachttijd aan de balie",
    "",
    "Geachte heer, mevrouw,",
    "",
    "Op maandag heb ik drie kwartier gewacht aan de balie",
    "van het gemeentehuis. Niemand heeft mij geholpen.",
    "Ik wil hierover een klacht indienen.",
    "",
    "Met vriendelijke groet,",
    "Sietske de Vries",
]
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
]


def scanned_letter(fmt: str = "PNG") -> bytes:
    """A Dutch letter as a scanner would deliver it: grey paper, slightly rotated and soft."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font_path = next((path for path in FONTS if Path(path).exists()), None)
    font = ImageFont.truetype(font_path, 34) if font_path else ImageFont.load_default(size=34)
    page = Image.new("L", (1500, 1100), 238)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(LETTER_LINES):
        draw.text((110, 90 + number * 52), line, font=font, fill=25)
    page = page.rotate(0.4, fillcolor=238, expand=False).filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    if fmt == "PDF":
        page.save(buffer, format="PDF", resolution=150)  # image only: no text layer
    else:
        page.save(buffer, format=fmt)
    return buffer.getvalue()


def typed_letter_pdf() -> bytes:
    """A letter typed in a word processor and saved as PDF: it carries a text layer."""
    from weasyprint import HTML

    html = "<html lang='nl'><body><p>Betreft: verbetersuggestie voor de website</p><p>Zet de openingstijden van de balie op de voorpagina.</p></body></html>"
    return HTML(string=html).write_pdf()


def key_words_in(text: str) -> bool:
    lowered = text.lower()
    return all(word in lowered for word in ("klacht", "wachttijd", "balie", "kwartier", "harlingen"))


@pytest.fixture
def mailroom(db):
    return UserFactory(username="postkamer", role=MAILROOM)


@pytest.fixture
def officer(db):
    return UserFactory(username="kwaliteit", role=QUALITY_OFFICERS)


def upload(data: bytes, name: str = "scan.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


SENDER = Sender(name="Sietske de Vries", address="Voorstraat 1\n8861 BL Harlingen")


# --- text extraction ------------------------------------------------------------------------
@needs_ocr
def test_a_scanned_image_is_read_back_by_dutch_ocr():
    result = extraction.extract_letter_text(scanned_letter("PNG"), uploads.PNG)
    assert result.source == extraction.OCR and not result.problem
    assert key_words_in(result.text), result.text


@needs_ocr
def test_a_jpeg_scan_is_read_back_by_ocr():
    result = extraction.extract_letter_text(scanned_letter("JPEG"), uploads.JPEG)
    assert result.source == extraction.OCR
    assert key_words_in(result.text), result.text


@needs_ocr
def test_a_pdf_without_text_layer_is_rendered_and_ocrd():
    data = scanned_letter("PDF")
    assert extraction.pdf_text_layer(data) == ""
    result = extraction.extract_letter_text(data, uploads.PDF)
    assert result.source == extraction.OCR
    assert key_words_in(result.text), result.text


def pdf_of_blank_pages(points: int, pages: int) -> bytes:
    """A valid PDF of a few hundred bytes whose blank pages measure ``points`` × ``points`` pt."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)), pages)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (points, points)] * pages
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


@needs_ocr
def test_a_tiny_pdf_with_huge_pages_is_read_at_a_bounded_size(monkeypatch):
    """A 400-byte PDF may declare pages of 42 inches: at 300 dpi 156 million pixels a page, minutes of tesseract
    in the mailroom's request. Every page is rendered within an A4-at-300-dpi box instead."""
    data = pdf_of_blank_pages(3000, pages=2)  # 3000 pt: 12,500 pixels a side at 300 dpi
    sizes = []
    read = extraction._tesseract

    def measured(path, language):
        with Image.open(path) as page:
            sizes.append(page.size)
        return read(path, language)

    monkeypatch.setattr(extraction, "_tesseract", measured)
    assert len(data) < 600
    extraction.extract_letter_text(data, uploads.PDF)
    assert len(sizes) == 2
    assert all(max(size) <= extraction.OCR_MAX_SIDE_PIXELS for size in sizes), sizes
    normal = pdf_of_blank_pages(595, pages=1)  # an A4-wide page still gets its 300 dpi (2479 px)
    sizes.clear()
    extraction.extract_letter_text(normal, uploads.PDF)
    assert sizes[0][0] >= 2400


def test_a_pdf_with_a_text_layer_is_read_without_ocr(monkeypatch):
    def no_ocr(*args, **kwargs):
        raise AssertionError("OCR should not run for a PDF with a text layer")

    monkeypatch.setattr(extraction, "ocr_pdf", no_ocr)
    result = extraction.extract_letter_text(typed_letter_pdf(), uploads.PDF)
    assert result.source == extraction.TEXT_LAYER
    assert "openingstijden van de balie" in result.text


def test_without_tesseract_the_text_is_empty_with_a_note_to_type_it_over(monkeypatch, caplog):
    monkeypatch.setattr(extraction.shutil, "which", lambda name: None)
    caplog.set_level(logging.WARNING, logger="cases.intake.letters")
    result = extraction.extract_letter_text(scanned_letter("PNG"), uploads.PNG)
    assert result.text == "" and result.source == extraction.NONE
    assert result.problem == str(extraction.OCR_UNAVAILABLE)
    assert "OCR unavailable" in caplog.text


@needs_ocr
def test_a_blank_scan_says_no_text_was_found():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (600, 400), 255).save(buffer, format="PNG")
    result = extraction.extract_letter_text(buffer.getvalue(), uploads.PNG)
    assert result.text == "" and result.problem == str(extraction.NO_TEXT_FOUND)


def test_a_broken_pdf_is_registered_with_a_note_not_an_exception(monkeypatch):
    monkeypatch.setattr(extraction, "ocr_pdf", lambda data, **kw: (_ for _ in ()).throw(extraction.OcrFailed("pdftoppm exited 1")))
    result = extraction.extract_letter_text(b"%PDF-1.4\nkapot", uploads.PDF)
    assert result.text == "" and result.problem == str(extraction.OCR_FAILED)


# --- registering ----------------------------------------------------------------------------
@needs_ocr
def test_mailroom_registers_a_scanned_letter_with_its_ocr_text_and_keeps_the_scan(municipality, mailroom, settings):
    received = timezone.localdate() - datetime.timedelta(days=2)
    result = letter_register(scan_file=upload(scanned_letter("PNG")), sender=SENDER, received_on=received, actor=mailroom)
    registration = result.registration
    assert result.created and result.extracted.source == extraction.OCR
    assert registration.channel == "letter" and registration.received_on == received
    assert registration.sender_address.startswith("Voorstraat 1") and registration.reply_channel == "post"
    assert registration.registered_by == mailroom
    assert key_words_in(registration.text)
    scan = Attachment.objects.get(registration=registration)
    assert scan.content_type == uploads.PNG and str(settings.PRIVATE_MEDIA_ROOT) in scan.file.path


def test_a_letter_of_unknown_kind_waits_in_the_triage_list(municipality, mailroom):
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf", "application/pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom
    )
    assert result.registration.kind == "other" and result.registration.triage_state == TriageState.PENDING
    assert not Case.objects.exists()


def test_a_letter_registered_as_complaint_becomes_a_case_dated_on_its_receipt(municipality, mailroom):
    received = datetime.date(2026, 4, 2)
    if received > timezone.localdate():
        received = timezone.localdate() - datetime.timedelta(days=1)
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf", "application/pdf"), sender=SENDER, received_on=received, actor=mailroom, kind="complaint"
    )
    case = result.registration.case
    assert case.kind == "complaint" and case.registration.received_on == received
    assert result.registration.number.startswith(f"HLG-{received.year}-")


def test_a_date_of_receipt_in_the_future_is_refused_and_nothing_is_saved(municipality, mailroom):
    with pytest.raises(ValidationError) as excinfo:
        letter_register(
            scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate() + datetime.timedelta(days=1), actor=mailroom
        )
    assert excinfo.value.message_dict["received_on"] == [str(errors.RECEIVED_IN_FUTURE)]
    assert Registration.objects.count() == 0 and Attachment.objects.count() == 0


def test_a_word_file_is_no_scan(municipality, mailroom):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ValidationError) as excinfo:
        letter_register(scan_file=upload(buffer.getvalue(), "brief.docx"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    assert excinfo.value.message_dict["scan_file"] == [str(uploads.SCAN_TYPE_NOT_ALLOWED % {"name": "brief.docx"})]
    assert Registration.objects.count() == 0


def test_an_oversized_scan_is_refused(municipality, mailroom):
    big = upload(b"%PDF-1.4\n" + b"0" * uploads.MAX_FILE_SIZE, "dik.pdf")
    with pytest.raises(ValidationError) as excinfo:
        letter_register(scan_file=big, sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    assert "is te groot" in excinfo.value.message_dict["scan_file"][0]
    assert Registration.objects.count() == 0


def test_the_same_scan_uploaded_twice_is_registered_once(municipality, mailroom):
    data = typed_letter_pdf()
    first = letter_register(scan_file=upload(data, "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    second = letter_register(scan_file=upload(data, "nogmaals.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    assert first.created and not second.created
    assert second.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1 and Attachment.objects.count() == 1


def test_without_ocr_a_complaint_letter_is_still_registered_with_a_note_for_the_officer(municipality, mailroom, monkeypatch):
    monkeypatch.setattr(extraction.shutil, "which", lambda name: None)
    result = letter_register(scan_file=upload(scanned_letter("PNG")), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint")
    assert result.created and result.registration.text == ""
    assert result.extracted.problem == str(extraction.OCR_UNAVAILABLE)
    note = CaseEvent.objects.get(case=result.registration.case, name="letter_text")
    assert note.note == str(extraction.OCR_UNAVAILABLE) and note.internal


def test_only_people_who_register_post_may_register_a_letter(municipality):
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied, match=str(LETTER_NO_PERMISSION)):
        letter_register(scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=editor)
    assert Registration.objects.count() == 0


# --- correcting the text --------------------------------------------------------------------
def test_the_officer_corrects_the_text_and_the_previous_text_stays_on_the_timeline(municipality, mailroom, officer):
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="suggestion"
    )
    before = result.registration.text
    registration = letter_correct_text(registration_id=result.registration.pk, text="Zet de openingstijden op de voorpagina.", actor=officer)
    assert registration.text == "Zet de openingstijden op de voorpagina."
    event = CaseEvent.objects.get(case=registration.case, name="letter_text_corrected")
    assert event.actor == officer and event.data["previous_text"] == before


def test_the_mailroom_corrects_the_text_while_the_case_is_as_registered(municipality, mailroom):
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint"
    )
    assert letter_may_correct(result.registration, mailroom)
    registration = letter_correct_text(registration_id=result.registration.pk, text="De openingstijden kloppen niet.", actor=mailroom)
    assert registration.text == "De openingstijden kloppen niet."
    assert CaseEvent.objects.get(case=registration.case, name="letter_text_corrected").actor == mailroom


def test_once_handling_has_started_only_an_officer_corrects_the_text(municipality, mailroom, officer, caplog):
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint"
    )
    Case.objects.filter(pk=result.registration.case.pk).update(state=CaseState.ACKNOWLEDGED)
    registration = Registration.objects.get(pk=result.registration.pk)
    assert not letter_may_correct(registration, mailroom) and letter_may_correct(registration, officer)
    with caplog.at_level(logging.WARNING, logger="cases.intake.letters"), pytest.raises(PermissionDenied, match="is al begonnen"):
        letter_correct_text(registration_id=registration.pk, text="iets anders", actor=mailroom)
    assert "handling has started" in caplog.text
    registration.refresh_from_db()
    assert "openingstijden" in registration.text
    assert not CaseEvent.objects.filter(case=registration.case, name="letter_text_corrected").exists()
    assert letter_correct_text(registration_id=registration.pk, text="iets anders", actor=officer).text == "iets anders"


def test_an_editor_may_not_correct_the_text(municipality, mailroom):
    result = letter_register(scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied, match=str(LETTER_CORRECT_NO_PERMISSION)):
        letter_correct_text(registration_id=result.registration.pk, text="iets anders", actor=editor)
    result.registration.refresh_from_db()
    assert "openingstijden" in result.registration.text


def test_a_corrected_text_is_tagged_again_replacing_the_old_suggestions(municipality, mailroom, settings, monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    monkeypatch.setattr(tasks.tag_case, "apply_async", lambda args, kwargs, countdown=None: calls.append((args[0], kwargs["replace"])))
    result = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint"
    )
    settings.HANDVEST_TAG_ON_REGISTRATION = True
    with django_capture_on_commit_callbacks(execute=True):
        letter_correct_text(registration_id=result.registration.pk, text="Ik werd aan de telefoon afgesnauwd.", actor=mailroom)
    assert calls == [(result.registration.case.pk, True)]


def test_the_corrected_text_cannot_be_empty(municipality, mailroom, officer):
    result = letter_register(scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom)
    with pytest.raises(ValidationError) as excinfo:
        letter_correct_text(registration_id=result.registration.pk, text="  ", actor=officer)
    assert excinfo.value.message_dict["text"] == [str(LETTER_TEXT_EMPTY)]


# --- the officers' form ---------------------------------------------------------------------
def test_letter_form_shows_a_future_date_next_to_the_date_field(municipality, mailroom):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = LetterForm(data={"received_on": tomorrow.isoformat(), "kind": "other"}, files={"scan": upload(typed_letter_pdf(), "brief.pdf")})
    assert not form.is_valid()
    assert form.errors["received_on"] == [str(errors.RECEIVED_IN_FUTURE)]


def test_letter_form_refuses_a_wrong_type_on_the_scan_field(municipality):
    form = LetterForm(data={"received_on": timezone.localdate().isoformat(), "kind": "other"}, files={"scan": upload(b"GIF89a....", "scan.gif")})
    assert not form.is_valid()
    assert form.errors["scan"] == [str(uploads.SCAN_TYPE_NOT_ALLOWED % {"name": "scan.gif"})]


def test_letter_form_registers_through_the_service(municipality, mailroom):
    form = LetterForm(
        data={"received_on": timezone.localdate().isoformat(), "kind": "complaint", "sender_name": "S. de Vries", "sender_address": "Voorstraat 1"},
        files={"scan": upload(typed_letter_pdf(), "brief.pdf")},
    )
    assert form.is_valid(), form.errors
    result = form.register(actor=mailroom)
    assert result.created and result.registration.case.kind == "complaint"


def test_letter_form_shows_a_permission_refusal_as_a_form_error(municipality):
    editor = UserFactory(username="redacteur", role=EDITORS)
    form = LetterForm(data={"received_on": timezone.localdate().isoformat(), "kind": "other"}, files={"scan": upload(typed_letter_pdf(), "brief.pdf")})
    assert form.is_valid()
    assert form.register(actor=editor) is None
    assert form.non_field_errors() == [str(LETTER_NO_PERMISSION)]
