"""Destruction (Archiefwet): a back-dated closed case is proposed, destroyed only after the archivist
approves, and a *verklaring van vernietiging* is kept; open, held and permanent cases never go; the
figures and the annual report keep their counts; a run that breaks off is simply run again."""

import datetime
import io
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader
from wagtail.models import ModelLogEntry

from cases.correspondence.outbox import letter_queue
from cases.errors import WorkflowError
from cases.intake.email import email_intake
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseFact,
    CaseNorm,
    CaseRecord,
    DestructionItemState,
    DestructionList,
    DestructionListStatus,
    InboundMessage,
    NormMonthCount,
    OutgoingMessage,
    RecordHold,
    Registration,
)
from cases.records import destruction, retention
from cases.records.wiping import case_wiping
from cases.reporting.report import report_build, report_to_data
from cases.reporting.rollup import rollup_refresh
from cases.storage import private_storage
from cases.workflow.handling import case_merge
from cases.workflow.transitions import case_transition
from cms.models import ServiceNorm
from cms.roles import QUALITY_OFFICERS
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db

NAME = "Wietske Wiersma"
EMAIL = "w.wiersma@voorbeeld.nl"
TEXT = "De bode gooide mijn brief in de sloot bij de Zuiderhaven."
NORM_CELL = ("month", "norm", "tag_status", "kind", "channel", "outcome")


def dossier(case: Case) -> dict:
    """Give ``case`` everything a real one has: an attachment, the original e-mail, a letter with its PDF, a note."""
    registration = case.registration
    attachment = Attachment(registration=registration, filename="foto.png", content_type="image/png", size=4)
    attachment.file.save("foto.png", ContentFile(b"\x89PNG"), save=True)
    inbound = InboundMessage(
        source="eml", from_address=EMAIL, from_name=NAME, subject="Klacht", text=TEXT, outcome="case", case=case, registration=registration
    )
    inbound.raw.save("bericht.eml", ContentFile(f"From: {NAME} <{EMAIL}>\r\n\r\n{TEXT}".encode()), save=True)
    letter = OutgoingMessage.objects.create(
        case=case,
        kind="answer",
        channel="email",
        status="sent",
        dedupe_key=f"t:{case.pk}",
        to_name=NAME,
        to_email=EMAIL,
        subject=f"Antwoord {registration.number}",
        body_text=f"Beste {NAME}, over de sloot ...",
        message_id=f"<{case.pk}@test>",
        sent_at=timezone.now(),
    )
    letter.pdf.save("antwoord.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    CaseEvent.objects.create(case=case, kind="note", name="note", note=f"Gebeld met {NAME}")
    ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(InboundMessage),
        object_id=str(inbound.pk),
        label=str(inbound),
        action="wagtail.edit",
        data={"note": f"doorgestuurd namens {NAME}"},
        timestamp=timezone.now(),
    )
    return {"files": [attachment.file.name, inbound.raw.name, letter.pdf.name], "inbound": inbound, "letter": letter}


def destroyable(**traits) -> Case:
    case = CaseFactory(name=NAME, email=EMAIL, text=TEXT, **({"closed": True} | traits))
    close_years_ago(case, 6)
    return case


def approve(archivist, destruction_list, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        destruction.destruction_list_approve(list_id=destruction_list.pk, actor=archivist)
    destruction_list.refresh_from_db()
    return destruction_list


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_back_dated_closed_case_is_destroyed_only_after_approval_and_the_statement_is_kept(gemeente, archivist, django_capture_on_commit_callbacks):
    case = destroyable()
    kept = dossier(case)
    destruction_list = destruction.destruction_list_create(actor=archivist)
    (item,) = destruction_list.items.all()
    assert (item.number, item.result_type_name, item.selectielijst_item, item.term_years) == (case.registration.number, "Klacht afgehandeld", "13.1", 5)
    # Proposed, not yet approved: everything is still there.
    assert Registration.objects.get(pk=case.registration_id).text == TEXT
    assert all(private_storage.exists(name) for name in kept["files"])

    destruction_list = approve(archivist, destruction_list, django_capture_on_commit_callbacks)

    registration = Registration.objects.get(pk=case.registration_id)
    assert (registration.text, registration.subject, registration.sender_name, registration.sender_email, registration.sender_address) == ("", "", "", "", "")
    assert (registration.number, registration.received_on) == (case.registration.number, case.registration.received_on)
    assert not any(private_storage.exists(name) for name in kept["files"])
    assert not Attachment.objects.filter(registration=registration).exists()
    inbound = InboundMessage.objects.get(pk=kept["inbound"].pk)
    assert (inbound.text, inbound.from_address, inbound.raw.name) == ("", "", "")
    letter = OutgoingMessage.objects.get(pk=kept["letter"].pk)
    assert (letter.body_text, letter.to_name, letter.to_email, letter.pdf.name, letter.status) == ("", "", "", "", "sent")
    assert not CaseEvent.objects.filter(case=case, note__contains=NAME).exists()
    assert [(entry.label, entry.data) for entry in ModelLogEntry.objects.filter(object_id=str(inbound.pk))] == [("e-mail (gegevens vernietigd)", {})]
    case.refresh_from_db()
    assert case.public_token_revoked and (case.state, case.outcome) == ("closed", "gegrond")
    assert CaseRecord.objects.get(case=case).destroyed_at is not None
    assert destruction_list.status == DestructionListStatus.DONE

    statement = destruction_list.statement.read()
    text = pdf_text(statement)
    for expected in (case.registration.number, "Klacht afgehandeld", "13.1", "5 jaar", "Anne Archief", destruction_list.number, f"{timezone.localdate():%Y}"):
        assert expected in text
    assert NAME not in text and "sloot" not in text
    root = PdfReader(io.BytesIO(statement)).trailer["/Root"]
    assert (str(root["/Lang"]), "/StructTreeRoot" in root) == ("nl", True)


def test_nothing_is_destroyed_while_the_list_awaits_approval_or_was_withdrawn(gemeente, archivist):
    case = destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    destruction.destruction_list_cancel(list_id=destruction_list.pk, actor=archivist)
    with pytest.raises(WorkflowError):
        destruction.destruction_list_execute(list_id=destruction_list.pk)
    assert Registration.objects.get(pk=case.registration_id).text == TEXT
    assert destruction_list.items.get().state == DestructionItemState.WITHDRAWN  # no longer proposed
    # Its cases can go on a new list.
    assert destruction.destruction_list_create(actor=archivist).items.get().case_id == case.pk


def test_the_database_proposes_a_case_on_one_list_at_a_time(gemeente, archivist):
    from django.db import IntegrityError, transaction

    case = destroyable()
    first = destruction.destruction_list_create(actor=archivist)
    twin = DestructionList.objects.create(as_of=first.as_of, created_by=archivist)  # as a list made at the same moment would
    item = first.items.get()
    copy = type(item)(destruction_list=twin, case=case, number=item.number, kind=item.kind, source_date=item.source_date, destroy_on=item.destroy_on)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    with pytest.raises(WorkflowError):  # and the service finds nothing left to propose
        destruction.destruction_list_create(actor=archivist)


def test_an_exclusion_cannot_be_undone_once_the_case_is_on_a_newer_list(gemeente, archivist):
    case = destroyable()
    first = destruction.destruction_list_create(actor=archivist)
    excluded = destruction.destruction_item_exclude(item_id=first.items.get().pk, reason="bezwaar loopt nog", actor=archivist)
    retention.record_lift_hold(case_id=case.pk, reason="bezwaar ingetrokken", actor=officer())  # the exclusion's hold
    second = destruction.destruction_list_create(actor=archivist)  # no postponement, no hold: the case is proposed again
    assert second.items.get().case_id == case.pk
    with pytest.raises(WorkflowError, match=second.number):
        destruction.destruction_item_include(item_id=excluded.pk, actor=archivist)
    excluded.refresh_from_db()
    assert (excluded.state, excluded.reason) == (DestructionItemState.EXCLUDED, "bezwaar loopt nog")


def test_open_held_permanent_and_not_yet_due_cases_are_never_proposed(municipality, archivist):
    due = destroyable()
    open_case = CaseFactory(in_treatment=True, received_on=datetime.date(2012, 1, 9))
    ombudsman = destroyable()
    retention.record_ombudsman(case_id=ombudsman.pk, on=timezone.localdate(), actor=officer())
    objection = destroyable()
    retention.record_hold(case_id=objection.pk, hold=RecordHold.OBJECTION, reason="bezwaar loopt", actor=officer())
    permanent = destroyable()
    CaseRecord.objects.filter(case=permanent).update(verdict="bewaren", destroy_on=None)
    not_due = CaseFactory(closed=True)
    proposed = set(destruction.destruction_candidates(as_of=timezone.localdate()).values_list("case_id", flat=True))
    assert proposed == {due.pk}
    assert {open_case.pk, ombudsman.pk, objection.pk, permanent.pk, not_due.pk}.isdisjoint(proposed)
    summary = destruction.destruction_summary(as_of=timezone.localdate())
    assert (summary["open"], summary["held"], summary["keep"], summary["term_running"]) == (1, 2, 1, 1)


def test_an_excluded_case_stays_with_its_reason_in_the_statement(gemeente, archivist, django_capture_on_commit_callbacks):
    first, second = destroyable(), destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    item = destruction_list.items.get(case=second)
    later = timezone.localdate() + datetime.timedelta(days=400)
    destruction.destruction_item_exclude(item_id=item.pk, reason="historisch belang: raadsdebat 2031", postpone_until=later, actor=archivist)
    approve(archivist, destruction_list, django_capture_on_commit_callbacks)
    assert Registration.objects.get(pk=second.registration_id).text == TEXT
    assert Registration.objects.get(pk=first.registration_id).text == ""
    assert CaseRecord.objects.get(case=second).destroy_on == later
    assert "historisch belang: raadsdebat 2031" in pdf_text(DestructionList.objects.get(pk=destruction_list.pk).statement.read())


def test_an_exclusion_without_a_date_holds_the_case_from_the_next_list_and_from_erasure(gemeente, archivist, django_capture_on_commit_callbacks):
    """Else the next list proposed it again with no reason shown, and an erasure request wiped it meanwhile."""
    from cases.records import erasure
    from cases.records.subject_access import PersonQuery, person_find

    case = destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    destruction.destruction_item_exclude(item_id=destruction_list.items.get().pk, reason="Woo-verzoek loopt nog", actor=archivist)
    record = CaseRecord.objects.get(case=case)
    assert record.hold == RecordHold.OTHER and "Woo-verzoek loopt nog" in record.hold_reason
    assert CaseEvent.objects.filter(case=case, name="hold", note__contains="Woo-verzoek").exists()
    approve(archivist, destruction_list, django_capture_on_commit_callbacks)
    with pytest.raises(WorkflowError):
        destruction.destruction_list_create(actor=archivist)  # nothing else to propose: the case is held
    outcome = erasure.registrations_erase(match=person_find(PersonQuery(email=EMAIL)), reason="verzoek van de indiener", actor=officer())
    assert case.registration.number in outcome.refused
    assert Registration.objects.get(pk=case.registration_id).text == TEXT


def test_the_reads_of_a_destroyed_case_no_longer_tie_it_to_the_person(gemeente, archivist, officer_client, django_capture_on_commit_callbacks):
    """The read log keeps who read what and when, but no longer the person's pseudonym: with the server key
    and an e-mail address it tied the kept registration number back to them."""
    from auditlog.models import LogEntry
    from django.urls import reverse

    from cases.records.read_log import UNLINKED, data_subject

    case = destroyable()
    pseudonym = data_subject(EMAIL, case.registration.number)
    officer_client.get(reverse("handvest_workspace:case", args=[case.pk]))
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert reads.filter(additional_data__data_subject=pseudonym).exists()
    other = CaseFactory(email="ander@example.nl", closed=True)  # not on the list: its reads keep their pseudonym
    officer_client.get(reverse("handvest_workspace:case", args=[other.pk]))
    count = reads.count()
    approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)
    assert not reads.filter(additional_data__data_subject=pseudonym).exists()
    assert reads.filter(additional_data__data_subject=UNLINKED, object_repr=case.registration.number).exists()
    assert reads.filter(additional_data__data_subject=data_subject("ander@example.nl", "")).exists()
    assert reads.count() == count  # nothing of who read what is deleted


def test_undoing_an_exclusion_lifts_the_hold_it_set(gemeente, archivist):
    case = destroyable()
    item = destruction.destruction_list_create(actor=archivist).items.get()
    destruction.destruction_item_exclude(item_id=item.pk, reason="Woo-verzoek loopt nog", actor=archivist)
    destruction.destruction_item_include(item_id=item.pk, actor=archivist)
    assert CaseRecord.objects.get(case=case).hold == ""


def test_an_exclusion_needs_a_reason_and_only_the_archivist_decides(gemeente, archivist):
    destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    item = destruction_list.items.get()
    with pytest.raises(ValidationError) as refused:
        destruction.destruction_item_exclude(item_id=item.pk, reason="  ", actor=archivist)
    assert refused.value.message_dict == {"reason": [str(destruction.EXCLUSION_NEEDS_REASON)]}
    with pytest.raises(ValidationError):
        destruction.destruction_item_exclude(item_id=item.pk, reason="later", postpone_until=timezone.localdate(), actor=archivist)
    with pytest.raises(PermissionDenied):
        destruction.destruction_list_approve(list_id=destruction_list.pk, actor=UserFactory(username="kwaliteit2", role=QUALITY_OFFICERS))
    with pytest.raises(PermissionDenied):
        destruction.destruction_item_exclude(item_id=item.pk, reason="mag niet", actor=officer())
    item.refresh_from_db()
    assert (item.state, item.reason) == (DestructionItemState.PROPOSED, "")
    assert DestructionList.objects.get(pk=destruction_list.pk).status == DestructionListStatus.PROPOSED


def test_a_list_is_approved_once_and_then_no_longer_changes(gemeente, archivist, django_capture_on_commit_callbacks):
    destroyable()
    destruction_list = approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)
    statement = destruction_list.statement_sha256
    with pytest.raises(WorkflowError, match="vernietigd"):
        destruction.destruction_list_approve(list_id=destruction_list.pk, actor=archivist)
    with pytest.raises(WorkflowError):
        destruction.destruction_item_exclude(item_id=destruction_list.items.get().pk, reason="te laat", actor=archivist)
    destruction_list.refresh_from_db()
    assert (destruction_list.status, destruction_list.statement_sha256) == (DestructionListStatus.DONE, statement)
    assert destruction_list.items.get().state == DestructionItemState.DESTROYED


def test_other_capabilities_are_told_which_cases_are_wiped_in_the_same_transaction(gemeente, archivist, django_capture_on_commit_callbacks):
    """The conversation (questions and replies) keeps personal data of its own; it removes it on ``case_wiping``."""
    case = destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    told = []

    def refuse(sender, case_ids, **kwargs):
        told.append(list(case_ids))
        raise OSError("opslag van het gesprek niet bereikbaar")

    case_wiping.connect(refuse)
    try:
        destruction_list = approve(archivist, destruction_list, django_capture_on_commit_callbacks)  # the failure is logged, not raised
    finally:
        case_wiping.disconnect(refuse)
    assert told == [[case.pk]]
    assert destruction_list.status == DestructionListStatus.APPROVED and not destruction_list.statement
    # The receiver failed, so the case's transaction rolled back: nothing of it is gone, it waits for a rerun.
    assert Registration.objects.get(pk=case.registration_id).text == TEXT
    assert destruction_list.items.get().state == DestructionItemState.PROPOSED
    assert CaseRecord.objects.get(case=case).destroyed_at is None


def test_a_case_that_went_to_the_ombudsman_after_approval_is_skipped(gemeente, archivist, django_capture_on_commit_callbacks):
    case = destroyable()
    destruction_list = destruction.destruction_list_create(actor=archivist)
    retention.record_ombudsman(case_id=case.pk, on=timezone.localdate(), actor=officer())
    destruction_list = approve(archivist, destruction_list, django_capture_on_commit_callbacks)
    item = destruction_list.items.get()
    assert item.state == DestructionItemState.SKIPPED and "ombudsman" in item.reason
    assert Registration.objects.get(pk=case.registration_id).text == TEXT


def test_a_merged_duplicate_goes_with_the_case_it_was_merged_into(gemeente, archivist, django_capture_on_commit_callbacks):
    target = CaseFactory(acknowledged=True, name=NAME, email=EMAIL, text=TEXT)
    duplicate = CaseFactory(name=NAME, email=EMAIL, text=f"{TEXT} (nogmaals)")
    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=officer())
    case_transition(case_id=target.pk, name="withdraw", actor=officer())
    close_years_ago(target, 2)
    destruction_list = approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)
    assert destruction_list.items.get().merged_numbers == duplicate.registration.number
    assert Registration.objects.get(pk=duplicate.registration_id).text == ""


def mail_to_us(*, subject: str, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"{NAME} <{EMAIL}>", "info@harlingen.nl", subject
    message["Message-ID"], message["Date"] = make_msgid(domain="voorbeeld.nl"), "Mon, 02 Nov 2026 10:00:00 +0100"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(f"Hallo, ik ben {NAME}, Voorstraat 3. Hoe staat het met mijn klacht?")
    return message.as_bytes()


def test_mail_about_a_destroyed_case_is_a_new_matter_and_writes_nothing_into_it(gemeente, archivist, django_capture_on_commit_callbacks):
    """Nothing personal may come back into a destroyed case, where no list or erasure would find it again."""
    case = destroyable()
    letter = letter_queue(case_id=case.pk, kind="other", subject="Uw klacht", body_text="Beste inwoner, een bericht.", actor=officer())
    OutgoingMessage.objects.filter(pk=letter.pk).update(message_id="<brief-1.other@handvest.harlingen.nl>")  # as sent
    letter.refresh_from_db()
    approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)
    number = case.registration.number
    with django_capture_on_commit_callbacks(execute=True):
        by_number = email_intake(raw=mail_to_us(subject=f"Re: uw kenmerk {number}"), source="eml")
        by_reply = email_intake(raw=mail_to_us(subject="Re: uw brief", in_reply_to=letter.message_id), source="eml")
    assert by_number.outcome == by_reply.outcome == "case"  # registered as new, each with a number of its own
    assert not InboundMessage.objects.filter(case=case).exclude(text="").exists()
    assert not CaseEvent.objects.filter(case=case).exclude(note="").filter(note__contains=NAME).exists()
    assert Registration.objects.get(pk=case.registration_id).text == ""


def test_the_figures_and_the_annual_report_keep_their_counts(harlingen, archivist, django_capture_on_commit_callbacks):
    norm = ServiceNorm.objects.get(code="POST-REACTIE")
    received = datetime.date(2019, 3, 4)
    cases = [
        CaseFactory(closed=True, received_on=received),
        CaseFactory(acknowledged=True, received_on=received),
        CaseFactory(suggestion=True, closed=True, received_on=received),
        CaseFactory(closed=True, received_on=received, channel="letter"),
    ]
    case_transition(case_id=cases[1].pk, name="decline", ground="9:8-1b", actor=officer())
    for case in cases:
        CaseNorm.objects.create(case=case, norm=norm, status="confirmed", explanation=["sloot", "bode"])
        close_years_ago(Case.objects.get(pk=case.pk), 6)
    rollup_refresh()
    facts = list(CaseFact.objects.order_by("case_id").values())
    counts = list(NormMonthCount.objects.order_by(*NORM_CELL).values("month", "norm", "tag_status", "kind", "channel", "outcome", "cases"))
    report = report_to_data(report_build(year=2019, as_of=datetime.date(2026, 1, 1)))
    registrations = Registration.objects.filter(pk__in=[case.registration_id for case in cases])
    assert all(registration.sender_name and registration.text for registration in registrations)

    destruction_list = approve(archivist, destruction.destruction_list_create(actor=archivist), django_capture_on_commit_callbacks)
    assert destruction_list.items.filter(state=DestructionItemState.DESTROYED).count() == 4
    assert set(registrations.values_list("text", "subject", "sender_name", "sender_email", "sender_address")) == {("", "", "", "", "")}
    assert not CaseNorm.objects.filter(case__in=cases).exclude(explanation=[]).exists()
    rollup_refresh()  # rebuilt from the rows as they are now, as the nightly task does

    assert list(CaseFact.objects.order_by("case_id").values()) == facts
    assert list(NormMonthCount.objects.order_by(*NORM_CELL).values("month", "norm", "tag_status", "kind", "channel", "outcome", "cases")) == counts
    assert report_to_data(report_build(year=2019, as_of=datetime.date(2026, 1, 1))) == report
    assert len(facts) == 4 and sum(row["cases"] for row in counts) == 4
    assert report["sections"][0]["rows"][0]["values"] == {"complaint": 3, "suggestion": "<3"}


def test_an_interrupted_destruction_resumes_and_never_destroys_twice(gemeente, archivist, django_capture_on_commit_callbacks, monkeypatch):
    cases = [destroyable() for _ in range(3)]
    destruction_list = destruction.destruction_list_create(actor=archivist)
    wiped = []
    real_wipe = destruction.case_wipe

    def wipe_then_break(case):
        wiped.append(case.pk)
        if len(wiped) == 2:
            raise OSError("disk gone")
        return real_wipe(case)

    monkeypatch.setattr(destruction, "case_wipe", wipe_then_break)
    # The approval stands; the broken run is logged (robust on_commit), never shown to the archivist as an error page.
    approve(archivist, destruction_list, django_capture_on_commit_callbacks)
    destruction_list.refresh_from_db()
    states = dict(destruction_list.items.values_list("case_id", "state"))
    assert destruction_list.status == DestructionListStatus.APPROVED and not destruction_list.statement
    assert list(states.values()).count(DestructionItemState.DESTROYED) == 1
    assert Registration.objects.filter(pk__in=[case.registration_id for case in cases], text=TEXT).count() == 2

    result = destruction.destruction_list_execute(list_id=destruction_list.pk)
    assert (result.destroyed, result.done_before, result.finished) == (2, 1, True)
    assert len(wiped) == 4  # the first case was not wiped again; the broken one was tried again
    again = destruction.destruction_list_execute(list_id=destruction_list.pk)
    assert (again.destroyed, again.done_before, again.finished) == (0, 3, True)
    destruction_list.refresh_from_db()
    assert destruction_list.status == DestructionListStatus.DONE and destruction_list.statement_sha256


def test_a_list_that_loses_the_race_twice_gets_the_dutch_message_not_an_error(gemeente, archivist, monkeypatch):
    from django.db import IntegrityError

    destroyable()

    def taken_meanwhile(as_of, actor):
        raise IntegrityError("one_open_proposal_per_case")

    monkeypatch.setattr(destruction, "_list_create", taken_meanwhile)
    with pytest.raises(WorkflowError, match="geen zaken"):
        destruction.destruction_list_create(actor=archivist)
