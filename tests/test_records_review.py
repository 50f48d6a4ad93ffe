"""The archivist and records management as a municipality meets them: someone else's files kept out of an access
export, erasure that reports what it did (a merged duplicate, stray e-mails), a stranger's e-mail address removed,
every PDF of a letter destroyed, an archivist's postponement kept, and reads logged and unlinked."""

import io
import json
import re
import smtplib
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse
from django.utils import timezone

from cases.correspondence.composing import letter_compose
from cases.correspondence.delivery import DeliveryError, outgoing_send
from cases.correspondence.outbox import letter_queue
from cases.intake.email import email_intake
from cases.intake.triage import triage_done
from cases.models import Case, CaseRecord, DataSubjectRequest, InboundMessage, OutgoingMessage, Registration
from cases.records import destruction, erasure, retention
from cases.records.read_log import UNLINKED
from cases.records.subject_access import PersonQuery, person_find, subject_access_export
from cases.storage import private_storage
from cases.workflow.handling import case_merge
from cases.workflow.registration import Sender, register_item
from cases.workflow.transitions import case_transition
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db

JAN = {"name": "Jan de Vries", "email": "jan.devries@voorbeeld.nl", "address": "Voorstraat 12\n8861 BL Harlingen"}


def approve(archivist, destruction_list, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        destruction.destruction_list_approve(list_id=destruction_list.pk, actor=archivist)
    destruction_list.refresh_from_db()
    return destruction_list


def files_under(folder: str) -> list[str]:
    """Every file in the private storage below ``folder``."""
    found = []
    pending = [folder]
    while pending:
        current = pending.pop()
        if not private_storage.exists(current):
            continue
        directories, names = private_storage.listdir(current)
        found += [f"{current}/{name}" for name in names]
        pending += [f"{current}/{name}" for name in directories]
    return found


# --- access (AVG art. 15) ---------------------------------------------------------------------------
def test_an_attachment_someone_else_mailed_about_the_persons_case_stays_out_of_their_export(gemeente):
    """AVG art. 15 lid 4: the export holds nothing of anyone else. Piet mails the municipality about Jan's
    complaint (he puts Jan's number in the subject) and attaches his own payslip. His mail joins Jan's
    case for the officer; Jan asks for his data and must not receive Piet's payslip."""
    case = CaseFactory(name=JAN["name"], email=JAN["email"], address=JAN["address"], text="Jans klacht over de wachttijd", closed=True)
    number = case.registration.number
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Piet Bakker <piet.bakker@voorbeeld.nl>", "info@harlingen.nl", f"Over {number}"
    message["Message-ID"], message["Date"] = make_msgid(domain="voorbeeld.nl"), "Mon, 02 Nov 2026 10:00:00 +0100"
    message.set_content("Ik weet meer over deze zaak. Mijn loonstrook zit erbij.")
    message.add_attachment(b"%PDF-1.4 loonstrook van Piet Bakker", maintype="application", subtype="pdf", filename="loonstrook-piet-bakker.pdf")
    assert email_intake(raw=message.as_bytes(), source="eml").outcome == "thread"

    _filename, archive, _match = subject_access_export(query=PersonQuery(email=JAN["email"]), actor=officer())

    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        names = bundle.namelist()
        dumped = json.dumps(json.loads(bundle.read("inzage.json")), ensure_ascii=False)
        contents = b"".join(bundle.read(name) for name in names)
    assert "Jans klacht over de wachttijd" in dumped  # Jan's own data is there
    assert [name for name in names if "loonstrook" in name] == []
    assert "loonstrook-piet-bakker" not in dumped
    assert b"loonstrook van Piet Bakker" not in contents


# --- erasure (AVG art. 17) --------------------------------------------------------------------------
def test_erasing_a_person_does_not_report_their_merged_duplicate_as_still_being_handled(gemeente):
    """An erasure says per case what was erased, and for a refusal the true legal reason. Jan mailed his
    complaint twice; the second registration was merged into the first, which was withdrawn and whose
    term has passed. Jan asks to be forgotten: both registrations are wiped, so the request log and the
    officer must not say the duplicate was refused because it is 'nog in behandeling'."""
    target = CaseFactory(acknowledged=True, name=JAN["name"], email=JAN["email"], text="Mijn klacht over de haven")
    duplicate = CaseFactory(name=JAN["name"], email=JAN["email"], text="Mijn klacht over de haven (nogmaals)")
    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=officer())
    case_transition(case_id=target.pk, name="withdraw", actor=officer())
    close_years_ago(Case.objects.get(pk=target.pk), 2)  # withdrawn: one year (Selectielijst 13.2), long passed

    outcome = erasure.registrations_erase(match=person_find(PersonQuery(email=JAN["email"])), reason="verzoek per brief van 2 april", actor=officer())

    assert Registration.objects.get(pk=duplicate.registration_id).text == ""  # its data did go, with the case it joined
    log = DataSubjectRequest.objects.get()
    assert duplicate.registration.number not in outcome.refused, outcome.refused
    assert duplicate.registration.number not in log.refused


def test_erasing_a_persons_stray_e_mails_is_not_reported_as_nothing_erased(client, gemeente):
    """An erasure leaves a record of what it removed, and the officer is told what was erased. Jan's only
    mail was a message without a case (handled, never registered). He asks to be forgotten; the officer
    erases it on the privacy page: the page and the request log say one e-mail without a case was erased."""
    stray = InboundMessage.objects.create(
        source="eml", from_address=JAN["email"], from_name=JAN["name"], subject="Vraag", text="Jans losse vraag", outcome="ignored", handled=True
    )
    client.force_login(officer())
    response = client.post(
        reverse("handvest_privacy:erase"),
        {"email": JAN["email"], "wissen-reason": "verzoek per e-mail van 2 april", "wissen-confirm": "on"},
        follow=True,
    )
    stray.refresh_from_db()
    assert (stray.from_address, stray.text) == ("", "")  # it was erased
    page = response.content.decode()
    log = DataSubjectRequest.objects.get()
    assert "Er is niets gewist" not in page and "Gewist: 1 e-mail(s) zonder zaak." in page
    assert (log.numbers, log.refused) == ("1 e-mail(s) zonder zaak", "")


# --- rectification (AVG art. 16) -------------------------------------------------------------------
def test_a_wrong_e_mail_address_that_is_not_the_citizens_can_be_removed(gemeente):
    """Rectification corrects inaccurate data, also by removing it. At the counter Jan's complaint was
    registered with a mistyped e-mail address that belongs to a stranger; Jan has no e-mail and wants his
    letters by post. The officer must be able to remove the address, or every letter and the private link
    about Jan's complaint keep going to the stranger."""
    case = CaseFactory(acknowledged=True, name=JAN["name"], email="j.devries@voorbeeld.nl", address=JAN["address"], text="Klacht aan de balie")
    match = person_find(PersonQuery(number=case.registration.number))
    try:
        erasure.registrations_rectify(
            match=match, corrections={}, remove=("sender_email",), reason="e-mailadres is niet van de indiener; hij heeft geen e-mail", actor=officer()
        )
    except ValidationError as exc:
        pytest.fail(f"the wrong address cannot be removed: {exc.messages}")
    assert Registration.objects.get(pk=case.registration_id).sender_email == ""


# --- destruction (Archiefwet) -----------------------------------------------------------------------
def test_destroying_a_case_removes_every_pdf_of_its_answer_letter_also_after_a_retried_send(
    gemeente, archivist, django_capture_on_commit_callbacks, monkeypatch
):
    """Destruction removes the letters' PDFs from disk. The answer to Jan's complaint is a formal letter:
    it goes by e-mail with its PDF. The mail provider refused the first attempt and took the second.
    Years later the case is destroyed; no PDF of that letter may remain in the private storage."""
    case = CaseFactory(answered=True, name=JAN["name"], email=JAN["email"], address=JAN["address"], text="Mijn klacht over de haven")
    draft = letter_compose(case=case, kind="answer", outcome="gegrond")
    body = re.sub(r"\[\[.*?\]\]", "de bode bracht uw post te laat", draft.body_text, flags=re.S)  # the officer fills in the findings
    letter = letter_queue(case_id=case.pk, kind="answer", subject=draft.subject, body_text=body, actor=officer())
    real_send = EmailBackend.send_messages
    calls = []

    def refuse_first(self, messages):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("provider not reachable")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_first)
    with pytest.raises(DeliveryError):
        outgoing_send(outgoing_id=letter.pk)
    assert outgoing_send(outgoing_id=letter.pk) == "sent"
    assert files_under("letters")  # the answer's PDF is kept with the case
    case_transition(case_id=case.pk, name="close", outcome="gegrond", actor=officer())
    close_years_ago(Case.objects.get(pk=case.pk), 6)

    approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)

    assert CaseRecord.objects.get(case=case).destroyed_at is not None
    assert OutgoingMessage.objects.get(pk=letter.pk).pdf.name == ""
    assert files_under("letters") == []


def test_an_archivists_postponement_survives_an_officers_change_of_result_type(gemeente, archivist):
    """The archivist keeps a case off a destruction list until a later date ('opnieuw beoordelen vanaf').
    Until then it may not come back on a list. An officer then corrects the case's result type (a
    withdrawn complaint that was in fact handled): the case must not be proposed again before the
    archivist's date."""
    case = CaseFactory(acknowledged=True, name=JAN["name"], email=JAN["email"])
    case_transition(case_id=case.pk, name="withdraw", actor=officer())
    close_years_ago(Case.objects.get(pk=case.pk), 6)
    first = destruction.destruction_list_create(actor=archivist)
    later = timezone.localdate().replace(year=timezone.localdate().year + 1)
    destruction.destruction_item_exclude(
        item_id=first.items.get().pk, reason="nog in gebruik bij een bezwaar van de buren", postpone_until=later, actor=archivist
    )
    handled = retention.result_types_for("complaint").get(code="complaint_handled")

    retention.record_set_result_type(case_id=case.pk, result_type_id=handled.pk, reason="was toch afgehandeld", actor=officer())

    record = CaseRecord.objects.get(case=case)
    assert not destruction.destruction_candidates(as_of=timezone.localdate()).filter(case=case).exists(), record.destroy_on
    assert record.destroy_on >= later


# --- the read log -----------------------------------------------------------------------------------
def test_previewing_a_letter_to_the_citizen_as_pdf_is_a_logged_read(client, gemeente):
    """Every read of a case's personal data by an officer is logged. Downloading a sent letter's PDF is
    logged; previewing the same letter as a PDF in the composer shows the citizen's name, address and the
    case, and must be logged as a read too."""
    case = CaseFactory(acknowledged=True, name=JAN["name"], email="", address=JAN["address"], channel="post", text="Mijn klacht over de haven")
    user = officer()
    client.force_login(user)
    response = client.post(
        reverse("handvest_workspace:compose", args=[case.pk]),
        {
            "expected_state": case.state,
            "kind": "other",
            "subject": "Uw klacht",
            "body_text": f"Beste {JAN['name']}, wij nemen contact met u op.",
            "action": "pdf",
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user)
    assert reads.exists()


def test_an_erased_item_without_a_case_no_longer_ties_its_reads_to_the_person(client, gemeente):
    """After erasure the read log keeps who read what and when, but no longer the person's pseudonym (as
    for a case). Jan wrote a letter that is no complaint (other mail); the mailroom opened it, triage
    marked it done; Jan asks to be forgotten and it is erased. The reads of it must no longer carry his
    pseudonym, which with the server's key and his e-mail address ties the kept number back to him."""
    registration, _ = register_item(
        channel="letter", kind="other", text="Waar kan ik grofvuil kwijt?", sender=Sender(name=JAN["name"], email=JAN["email"], address=JAN["address"])
    )
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    assert client.get(reverse("handvest_mailroom:letter", args=[registration.pk])).status_code == 200
    triage_done(registration_id=registration.pk, actor=officer(), note="beantwoord per telefoon")

    outcome = erasure.registrations_erase(match=person_find(PersonQuery(email=JAN["email"])), reason="verzoek van 2 april", actor=officer())

    assert outcome.done == [registration.number]
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, content_type=ContentType.objects.get_for_model(Registration), object_id=str(registration.pk))
    assert reads.exists()
    assert {read.additional_data["data_subject"] for read in reads} == {UNLINKED}
