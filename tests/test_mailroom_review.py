"""The mailroom and letters on paper: damaged scans, long scans, impossible years, a corrected address and the
print queue, an answer counted when it is posted, a phone complaint without an address. Found by the mailroom review
of stop 31; each test failed before its fix."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from cases.correspondence.composing import letter_compose
from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.correspondence.post import letters_mark_posted
from cases.correspondence.steps import case_step_with_letter
from cases.intake import ocr as extraction
from cases.intake import uploads
from cases.intake.letters import letter_register
from cases.intake.oral import oral_intake
from cases.models import Attachment, Case, CaseFact, OutboxStatus, OutgoingMessage, Registration
from cases.records import erasure
from cases.records.subject_access import PersonQuery, person_find
from cases.reporting.rollup import rollup_refresh
from cases.workflow.deadline_scan import deadline_scan
from cases.workflow.registration import Sender
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory, officer
from tests.test_intake_letters import pdf_of_blank_pages

pytestmark = pytest.mark.django_db

SENDER = Sender(name="Sietske de Vries", address="Voorstraat 1\n8861 BL Harlingen")


@pytest.fixture
def mailroom(db):
    return UserFactory(username="postkamer", role=MAILROOM)


def upload(data, name="scan.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def typed_pdf() -> bytes:
    from weasyprint import HTML

    html = "<html lang='nl'><body><p>Betreft: klacht over de balie. Ik heb drie kwartier gewacht aan de balie van het gemeentehuis.</p></body></html>"
    return HTML(string=html).write_pdf()


def pdf_text(message: OutgoingMessage) -> str:
    with message.pdf.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def letter_in_print_queue(case) -> OutgoingMessage:
    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    message.refresh_from_db()
    return message


# --- 1. a scan pypdf cannot decode is still registered ------------------------------------
def test_a_pdf_scan_with_a_stream_filter_pypdf_does_not_know_is_still_registered(municipality, mailroom, monkeypatch):
    """A scan whose page content names a filter pypdf does not know (a damaged /FlateDecodX, the abbreviation /Fl):
    reading its text layer fails, and the letter is still registered with the note to type the text over."""
    monkeypatch.setattr(extraction, "ocr_pdf", lambda data, **kw: (_ for _ in ()).throw(extraction.OcrFailed("pdftoppm exited 1")))
    for damaged_name in (b"/Filter /FlateDecodX", b"/Filter /Fl         "):
        data = typed_pdf().replace(b"/Filter /FlateDecode", damaged_name, 1)
        result = extraction.extract_letter_text(data, uploads.PDF)  # raises today
        assert result.text == "" and result.problem
    data = typed_pdf().replace(b"/Filter /FlateDecode", b"/Filter /FlateDecodX", 1)
    registered = letter_register(scan_file=upload(data), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint")
    assert registered.created and Attachment.objects.filter(registration=registered.registration).count() == 1


# --- 2. a rectified postal address reaches the letter waiting in the print queue ----------
def test_a_letter_waiting_in_the_print_queue_goes_to_the_rectified_postal_address(gemeente, mailroom):
    """The citizen moved (or the address was typed wrong) and the officer rectifies it: the letter already waiting in
    the print queue gets the new address block and PDF, so the mailroom never posts it to the old address."""
    case = CaseFactory(email="", channel="letter", name="Sietske de Vries", address="Voorstraat 1\n8861 BL Harlingen")
    message = letter_in_print_queue(case)
    assert "Voorstraat 1" in pdf_text(message)
    match = person_find(PersonQuery(number=case.registration.number))
    erasure.registrations_rectify(match=match, corrections={"sender_address": "Zoutsloot 4\n8861 AB Harlingen"}, reason="verhuisd", actor=officer())
    message.refresh_from_db()
    assert message.status in (OutboxStatus.TO_PRINT, OutboxStatus.QUEUED)
    assert "Zoutsloot 4" in message.to_address
    text = pdf_text(message) if message.pdf else ""
    assert "Voorstraat 1" not in text


# --- 3. an answer on paper counts when it is posted ----------------------------------
def test_an_answer_by_post_counts_for_the_answer_term_on_the_day_it_was_posted(municipality, mailroom):
    """An answer on paper is given when the mailroom posts it, as the acknowledgement is: while it waits in the print
    queue the case is not answered yet, and posted after the six weeks it counts as late."""
    received = timezone.localdate() - datetime.timedelta(days=50)
    case = CaseFactory(email="", channel="letter", explained=True, received_on=received)
    draft = letter_compose(case=case, kind="answer", findings="F.", judgement="J.", conclusions="C.")
    case, message = case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    # The officer answered the day before the term ran out; the letter then waited in the print queue.
    clicked = timezone.make_aware(datetime.datetime.combine(case.answer_due - datetime.timedelta(days=1), datetime.time(10, 0)))
    Case.objects.filter(pk=case.pk).update(answered_at=clicked)
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=clicked)
    rollup_refresh()
    assert CaseFact.objects.get(case=case).handled_on is None, "not answered yet: the answer has not left the mailroom"
    letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=mailroom)
    rollup_refresh()
    fact = CaseFact.objects.get(case=case)
    assert fact.handled_on == timezone.localdate() and fact.handled_on > fact.answer_due


# --- 4. OCR says which pages it did not read ------------------------------------------
def test_ocr_of_a_scan_longer_than_the_page_limit_tells_the_officer_pages_were_not_read(monkeypatch):
    """A 25-page scan without a text layer: OCR reads MAX_OCR_PAGES (20) pages, and the registration says which pages
    were not read, so the officer reads or types the rest."""
    monkeypatch.setattr(extraction, "_tesseract", lambda path, language: f"Tekst van bladzijde {path.stem}")
    result = extraction.extract_letter_text(pdf_of_blank_pages(200, pages=25), uploads.PDF)
    assert result.text.count("Tekst van bladzijde") == extraction.MAX_OCR_PAGES
    assert result.problem, "the officer is not told that 5 of the 25 pages were not read"


# --- 5. a date of receipt in year 26 is refused ---------------------------------------------------
def test_a_date_of_receipt_with_an_impossible_year_is_refused(municipality, mailroom):
    """A year typed as 26 (the date field takes 0026-03-02) is refused in Dutch: it would give a number ('HLG-26-000001')
    that threading and search never find, with all its terms 2000 years overdue."""
    with pytest.raises(ValidationError) as excinfo:
        letter_register(scan_file=upload(typed_pdf()), sender=SENDER, received_on=datetime.date(26, 3, 2), actor=mailroom, kind="complaint")
    assert "received_on" in excinfo.value.message_dict
    assert Registration.objects.count() == 0


# --- 6. a phone-only complaint is acknowledged in the conversation ------------------------
def test_a_phone_only_complaint_is_not_left_overdue_for_a_written_acknowledgement(municipality, settings):
    """A phone complaint with only a phone number is acknowledged in the conversation: no letter waits that can never go,
    and the case never shows as an overdue acknowledgement. Awb 9:6 asks a written acknowledgement of a written
    complaint only."""
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    registration = oral_intake(
        channel="phone",
        kind="complaint",
        text="Ik ben niet teruggebeld over mijn aanvraag.",
        sender=Sender(name="Jan Hoekstra", phone="0612345678"),
        resolved_at_once=False,
        callback_requested=True,
        actor=officer(),
    )
    case = registration.case
    assert case.state == "acknowledged"
    assert acknowledgement_queue(case_id=case.pk) is None  # no letter that could never go
    assert "Mondeling bevestigd" in case.events.get(name="acknowledge").note
    later = case.acknowledgement_due + datetime.timedelta(days=7)
    scan = deadline_scan(today=later)
    overdue_acknowledgements = [item.number for item in scan.overdue + scan.acknowledgements_due if item.deadline == "acknowledgement"]
    assert registration.number not in overdue_acknowledgements
