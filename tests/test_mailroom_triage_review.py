"""The mailroom (postkamer) and triage as the people who do that work every day meet them: letters whose reason to
go has gone, the posting day, odd scans, the triage state on the letter page, corrections after a forward or from
a stale page, and a forward the mail server refused.

Each test states the rule a clerk or quality officer expects; the docstrings also say what went wrong before the
fix (a review of December 6).
"""

import datetime
import io
import re
import smtplib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.correspondence.post import letters_mark_posted, outgoing_mark_printed
from cases.intake import triage as triage_services
from cases.intake.letters import letter_correct_text, letter_register
from cases.models import OutboxStatus, OutgoingMessage, Registration, TriageState
from cases.workflow.handling import case_merge
from cases.workflow.registration import Sender
from cases.workflow.transitions import case_transition
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory, officer
from tests.test_intake_letters import typed_letter_pdf

pytestmark = pytest.mark.django_db

SIETSKE = {"name": "Sietske de Vries", "email": "", "address": "Voorstraat 1\n8861 BL Harlingen"}
SENDER = Sender(name="Sietske de Vries", address="Voorstraat 1\n8861 BL Harlingen")


@pytest.fixture
def mailroom(db):
    return UserFactory(username="postkamer", role=MAILROOM)


def acknowledgement_in_print_queue(case) -> OutgoingMessage:
    """The automatic acknowledgement of a citizen without e-mail: a PDF letter waiting for the mailroom."""
    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    message.refresh_from_db()
    return message


def scan(data: bytes = b"", name: str = "brief.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or typed_letter_pdf(), content_type="application/pdf")


def other_letter(mailroom) -> Registration:
    """A letter the mailroom could not place: it waits in triage as 'overig'."""
    return letter_register(scan_file=scan(), sender=SENDER, received_on=timezone.localdate(), actor=mailroom).registration


def pdf_with_text_layer(shown: bytes) -> bytes:
    """A one-page PDF (Helvetica) whose text layer shows ``shown`` (PDF string syntax)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 72 720 Td (" + shown + b") Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


class RefusingMailServer(BaseEmailBackend):
    """The municipality's mail server hung up: nothing was sent."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


# --- 1. an acknowledgement for a case that was closed meanwhile still waits to be posted -----------------
def test_an_acknowledgement_waiting_in_the_print_queue_is_not_posted_after_the_case_was_resolved(municipality, mailroom, client):
    """The charter's exception: no acknowledgement when the matter is settled at once. Mevrouw De Vries (no e-mail)
    wrote about the counter; her acknowledgement waits in the print queue, and the next morning the officer phones her
    and resolves it informally (Awb 9:5). The mailroom must not post 'we received your complaint, you get an answer
    within six weeks' for a closed case: the letter leaves the print queue, and posting it is refused."""
    case = CaseFactory(**SIETSKE)
    letter = acknowledgement_in_print_queue(case)
    case_transition(case_id=case.pk, name="resolve_informally", actor=officer(), note="Telefonisch opgelost met mevrouw De Vries.")

    client.force_login(mailroom)
    page = client.get(reverse("handvest_mailroom:print_queue"))
    assert case.registration.number not in page.content.decode(), "the print queue still offers the acknowledgement of a closed case"
    assert page.context["page_obj"].paginator.count == 0

    posting = letters_mark_posted(outgoing_ids=[letter.pk], posted_on=timezone.localdate(), actor=mailroom)  # a page left open
    assert [withheld.pk for withheld in posting.withheld] == [letter.pk] and not posting.posted
    letter.refresh_from_db()
    assert letter.status != OutboxStatus.POSTED, "an acknowledgement was posted for a complaint that was already closed"


def test_an_acknowledgement_of_a_merged_case_is_not_posted(municipality, mailroom, client):
    """'A merged case sends no letter' (README). Mevrouw De Vries wrote twice about the same thing; the officer merges
    the second letter into the first case while its acknowledgement waits in the print queue. The mailroom must not
    post an acknowledgement with the merged number (a second letter, a second number to follow)."""
    first = CaseFactory(**SIETSKE)
    second = CaseFactory(**SIETSKE)
    letter = acknowledgement_in_print_queue(second)
    case_merge(case_id=second.pk, into_number=first.registration.number, actor=officer())

    client.force_login(mailroom)
    page = client.get(reverse("handvest_mailroom:print_queue")).content.decode()
    assert second.registration.number not in page, "the print queue still offers the acknowledgement of a merged case"
    posting = letters_mark_posted(outgoing_ids=[letter.pk], posted_on=timezone.localdate(), actor=mailroom)  # a page left open
    assert [withheld.pk for withheld in posting.withheld] == [letter.pk] and not posting.posted
    letter.refresh_from_db()
    assert letter.status != OutboxStatus.POSTED


# --- 2. the case page gives the day of marking, not the day of posting ------------------------------------
def test_the_case_page_shows_the_day_the_acknowledgement_was_posted(municipality, mailroom, officer_client):
    """The acknowledgement counts on the day it went in the post (README: the posting date is what the terms count).
    Monday's clerk marks last week's batch with its real posting date, before the term ran out; the officer's case
    page must say 'verstuurd <that day>', not the day of the click, which makes an acknowledgement on time look late."""
    today = timezone.localdate()
    case = CaseFactory(**SIETSKE, received_on=today - datetime.timedelta(days=10))
    letter = acknowledgement_in_print_queue(case)
    OutgoingMessage.objects.filter(pk=letter.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    posted_on = today - datetime.timedelta(days=7)
    letters_mark_posted(outgoing_ids=[letter.pk], posted_on=posted_on, actor=mailroom)
    case.refresh_from_db()
    assert posted_on <= case.acknowledgement_due < today  # on time when posted; late if counted from the click

    html = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert f"verstuurd {posted_on:%d-%m-%Y}" in html, "the case page gives the day the clerk clicked, not the posting day"
    assert timezone.localdate(case.acknowledged_at) == posted_on


# --- 3. posted before it was printed --------------------------------------------------------------------
def test_a_letter_cannot_be_marked_posted_before_the_day_it_was_printed(municipality, mailroom):
    """A letter goes in the post after it is printed. The clerk prints today a letter due days ago, then picks an
    earlier posting date in the date field: that makes a late acknowledgement count as on time in the figures.
    The date is refused, as a date before the letter was made already is."""
    today = timezone.localdate()
    case = CaseFactory(**SIETSKE, received_on=today - datetime.timedelta(days=10))
    letter = acknowledgement_in_print_queue(case)
    OutgoingMessage.objects.filter(pk=letter.pk).update(created_at=timezone.now() - datetime.timedelta(days=6))
    outgoing_mark_printed(outgoing_id=letter.pk, actor=mailroom)  # printed today

    with pytest.raises(ValidationError):
        letters_mark_posted(outgoing_ids=[letter.pk], posted_on=today - datetime.timedelta(days=5), actor=mailroom)
    letter.refresh_from_db()
    assert letter.status == OutboxStatus.PRINTED


def test_a_double_click_on_geprint_says_it_went_well_twice_and_prints_once(municipality, mailroom, client):
    """The second click of "Geprint" finds the letter printed a moment ago: no error after the success, one printed_at."""
    letter = acknowledgement_in_print_queue(CaseFactory(**SIETSKE))
    client.force_login(mailroom)
    url = reverse("handvest_mailroom:mark_printed", args=[letter.pk])
    client.post(url)
    letter.refresh_from_db()
    printed_at = letter.printed_at
    second = client.post(url, follow=True)
    shown = [str(message) for message in second.context["messages"]]
    assert shown and all("geprint" in message.lower() for message in shown) and not any("kan niet" in message for message in shown), shown
    letter.refresh_from_db()
    assert (letter.status, letter.printed_at) == (OutboxStatus.PRINTED, printed_at)


# --- 4. an odd PDF crashes the registration -------------------------------------------------------------
def test_a_scan_whose_text_layer_holds_a_nul_character_is_still_registered(municipality, mailroom, client):
    """A letter typed in a word processor with an odd font: pypdf reads a NUL character out of its text layer.
    The clerk's upload must register the letter (nothing that arrives is lost), not end in a server error with
    nothing registered; PostgreSQL refuses NUL in a text field, so the text is cleaned first."""
    client.force_login(mailroom)
    data = pdf_with_text_layer(b"Geachte heer, ik klaag over de balie\\000 van het gemeentehuis en de lange wachttijd.")
    response = client.post(
        reverse("handvest_mailroom:register"),
        {
            "scan": scan(data),
            "received_on": timezone.localdate().isoformat(),
            "kind": "complaint",
            "sender_name": "Sietske de Vries",
            "sender_address": "Voorstraat 1\n8861 BL Harlingen",
        },
    )
    assert response.status_code == 302, f"the upload ended in HTTP {response.status_code}"
    registration = Registration.objects.get(channel="letter")
    assert "\x00" not in registration.text and "wachttijd" in registration.text


# --- 5. the mailroom's page of a triaged letter -------------------------------------------------------------
def test_the_letter_page_does_not_say_a_forwarded_letter_still_waits_in_triage(municipality, mailroom, client):
    """The clerk looks up a letter registered as 'overig' that the officer forwarded to another department. The page
    must not say it still waits in the triage list for a quality officer: it was dealt with."""
    registration = other_letter(mailroom)
    triage_services.triage_forward(registration_id=registration.pk, to="vergunningen@harlingen.nl", actor=officer())

    client.force_login(mailroom)
    html = client.get(reverse("handvest_mailroom:letter", args=[registration.pk])).content.decode()
    assert "wacht in de triagelijst" not in html, "a forwarded letter is shown as still waiting in triage"


def test_the_mailroom_cannot_rewrite_a_letter_the_officer_already_forwarded(municipality, mailroom):
    """The mailroom corrects a letter's text until handling starts. For a letter in triage the officer's decision is
    that start: once it was forwarded (its text went to the other department) or marked done, the clerk can no longer
    replace the text, which for an item without a case leaves no trace of what was forwarded."""
    registration = other_letter(mailroom)
    forwarded_text = Registration.objects.get(pk=registration.pk).text
    triage_services.triage_forward(registration_id=registration.pk, to="vergunningen@harlingen.nl", actor=officer())

    with pytest.raises(PermissionDenied):
        letter_correct_text(registration_id=registration.pk, text="Een heel andere brief over de hondenbelasting.", actor=mailroom)
    assert Registration.objects.get(pk=registration.pk).text == forwarded_text


# --- 6. a stale page overwrites a colleague's correction ------------------------------------------------------
def test_a_stale_letter_page_does_not_overwrite_a_colleagues_correction(municipality, mailroom, client):
    """Two people at once: the clerk opens a letter waiting in triage to correct the OCR text; meanwhile the quality
    officer corrects the same text. The clerk's save from the stale page must not silently replace the officer's
    correction (for an item without a case nothing keeps the officer's text): it is refused with the conflict message,
    as every other change in the workspace is."""
    registration = other_letter(mailroom)
    client.force_login(mailroom)
    url = reverse("handvest_mailroom:letter", args=[registration.pk])
    assert client.get(url).status_code == 200  # the clerk's tab, with the OCR text

    officers_text = "Geachte heer, mevrouw,\n\nZet de openingstijden van de balie op de voorpagina van de website."

    seen = re.search(r'name="seen" value="([0-9a-f]+)"', client.get(url).content.decode()).group(1)  # the hidden field the browser sends back
    letter_correct_text(registration_id=registration.pk, text=officers_text, actor=officer())
    response = client.post(url, {"text": "Betreft: verbetersuggestie voor de website. Zet de openingstijden op de site.", "seen": seen})
    assert response.status_code == 409 and "Uw verbetering (niet opgeslagen)" in response.content.decode()
    assert Registration.objects.get(pk=registration.pk).text == officers_text, "the officer's correction was overwritten by a stale page"


# --- 7. a forward whose e-mail never left is marked forwarded ---------------------------------------------------
def test_a_forward_that_could_not_be_sent_is_not_marked_forwarded(municipality, mailroom, officer_client, settings, django_capture_on_commit_callbacks):
    """Nothing lost: the officer forwards a letter about a building permit to the permits department while the mail
    server is down. The item must not leave the triage list as 'doorgestuurd' while nothing went (today the
    officer gets a server error, the item is gone from the list, and the department never gets the letter)."""
    registration = other_letter(mailroom)
    settings.EMAIL_BACKEND = "tests.test_mailroom_triage_review.RefusingMailServer"
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("handvest_triage:registration_action", args=[registration.pk, "forward"]),
            {"to": "vergunningen@harlingen.nl", "note": "Graag afhandelen."},
            follow=True,
        )
    registration.refresh_from_db()
    assert registration.triage_state == TriageState.PENDING, "marked 'doorgestuurd' although the e-mail never left"
    assert "Doorsturen naar vergunningen@harlingen.nl is niet gelukt" in response.content.decode()


# --- 8. a letter whose first page is typed and the rest scanned ---------------------------------------------------
def typed_page_then_scanned_page() -> bytes:
    """A citizen's letter as it often comes in: a typed first page (a form, a cover letter with a text layer), then a
    handwritten or printed page that the scanner delivers as an image only."""
    from pypdf import PdfReader, PdfWriter

    from tests.test_intake_letters import scanned_letter

    writer = PdfWriter()
    for data in (typed_letter_pdf(), scanned_letter("PDF")):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.skipif(not __import__("shutil").which("pdftoppm"), reason="needs pdftoppm (make system-deps)")
def test_the_scanned_pages_of_a_partly_typed_letter_are_read_or_flagged(municipality, mailroom, monkeypatch):
    """A two-page letter: page 1 typed (it has a text layer), page 2 a scanned image with the complaint itself. The
    text layer of page 1 alone must not pass for the whole letter: page 2 is read by OCR, or the clerk and officer are
    told that a page had no text (as they are for pages OCR did not read). Today page 2 is silently left out."""
    from cases.intake import ocr as extraction

    monkeypatch.setattr(extraction, "tesseract_available", lambda language="nld": True)
    monkeypatch.setattr(extraction, "_tesseract", lambda path, language: "Ik heb drie kwartier gewacht aan de balie.")
    result = letter_register(scan_file=scan(typed_page_then_scanned_page()), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint")
    text = result.registration.text
    assert "openingstijden" in text  # page 1, from its text layer
    assert "kwartier" in text or result.extracted.problem, "page 2 of the letter was neither read nor flagged"
