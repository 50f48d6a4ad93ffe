"""Rectification and erasure (AVG art. 16, 17): corrected with the reason recorded; erased only where
the retention duty allows, anonymised rather than deleted, with a clear Dutch reason for each refusal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseFact, CaseRecord, DataSubjectRequest, Registration, TriageState
from cases.permissions import ARCHIVISTS
from cases.records import destruction, erasure
from cases.records.subject_access import PersonQuery, person_find
from cases.reporting.rollup import rollup_refresh
from cases.workflow.registration import Sender, register_item
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db

EMAIL = "g.hoekstra@voorbeeld.nl"
NAME = "Geartsje Hoekstra"


def case_of(**traits) -> Case:
    return CaseFactory(name=NAME, email=EMAIL, text="Mijn klacht over de haven", **traits)


def erase(reason: str = "verzoek per e-mail van 2 april"):
    return erasure.registrations_erase(match=person_find(PersonQuery(email=EMAIL)), reason=reason, actor=officer())


def test_an_open_case_is_not_erased_and_the_refusal_says_why(gemeente):
    case = case_of(in_treatment=True)
    outcome = erase()
    assert outcome.done == []
    assert outcome.refused == {case.registration.number: str(erasure.REFUSED_OPEN)}
    assert "nog in behandeling" in outcome.refused[case.registration.number]
    assert Registration.objects.get(pk=case.registration_id).sender_email == EMAIL


def test_a_closed_case_within_its_term_names_the_date_it_goes(gemeente):
    case = case_of(closed=True)
    record = CaseRecord.objects.get(case=case)
    outcome = erase()
    assert outcome.refused[case.registration.number] == str(erasure.REFUSED_TERM % {"date": f"{record.destroy_on:%d-%m-%Y}", "item": "13.1"})
    assert "Archiefwet" in outcome.refused[case.registration.number]


def test_a_case_kept_for_ever_is_not_erased(gemeente):
    case = case_of(closed=True)
    CaseRecord.objects.filter(case=case).update(verdict="bewaren", destroy_on=None)
    assert erase().refused[case.registration.number] == str(erasure.REFUSED_KEEP)


def test_a_closed_case_past_its_term_is_anonymised_and_still_counted(gemeente):
    case = case_of(closed=True)
    close_years_ago(case, 6)
    Case.objects.filter(pk=case.pk).update(complained_about="J. de Vries, baliemedewerker")
    assert Case.objects.get(pk=case.pk).hearing_report  # the factory's hearing left a report
    rollup_refresh()
    fact = CaseFact.objects.filter(case=case).values().get()
    outcome = erase("wil niet langer in het systeem staan")
    assert outcome.done == [case.registration.number]
    registration = Registration.objects.get(pk=case.registration_id)
    assert (registration.sender_name, registration.sender_email, registration.text) == ("", "", "")
    assert Case.objects.filter(pk=case.pk, hearing_report="", complained_about="").exists()  # what was said at the hearing, and by whom
    assert Case.objects.filter(pk=case.pk).exists() and CaseRecord.objects.get(case=case).erased_at is not None
    rollup_refresh()
    assert CaseFact.objects.filter(case=case).values().get() == fact
    assert CaseEvent.objects.filter(case=case, name="erased", note__contains="wil niet langer").exists()
    # The archivist's next list still accounts for it in a statement of destruction.
    archivist = UserFactory(username="archivaris", role=ARCHIVISTS)
    assert destruction.destruction_list_create(actor=archivist).items.get().case_id == case.pk


def test_other_mail_is_erased_once_triaged_but_not_while_it_waits(gemeente):
    waiting, _ = register_item(channel="email", kind="other", text="Een vraag over afval", sender=Sender(name=NAME, email=EMAIL))
    done, _ = register_item(channel="email", kind="other", text="Bedankt voor het snelle antwoord", sender=Sender(name=NAME, email=EMAIL))
    Registration.objects.filter(pk=done.pk).update(triage_state=TriageState.DONE)
    outcome = erase()
    assert outcome.done == [done.number]
    assert outcome.refused == {waiting.number: str(erasure.REFUSED_TRIAGE)}
    assert Registration.objects.get(pk=done.pk).text == "" and Registration.objects.get(pk=waiting.pk).text == "Een vraag over afval"


def witness_mail(number: str) -> None:
    from email.message import EmailMessage

    from cases.intake.email import email_intake

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Piet Bakker <piet@example.nl>", "info@harlingen.nl", f"Over {number}"
    message["Message-ID"] = "<getuige-1@example.nl>"
    message.set_content("Ik zag het gebeuren, ik ben Piet van het Kerkpad.")
    assert email_intake(raw=message.as_bytes(), source="eml").outcome == "thread"


def test_a_witness_mail_on_an_open_case_is_kept_and_goes_whole_once_the_case_may_go(gemeente):
    """AVG art. 17 lid 3 sub b: the open file is kept whole; once it may go, the timeline line quoting the mail goes too."""
    case = CaseFactory(acknowledged=True)
    witness_mail(case.registration.number)
    outcome = erasure.registrations_erase(match=person_find(PersonQuery(email="piet@example.nl")), reason="verzoek", actor=officer())
    assert outcome.refused == {f"e-mail bij {case.registration.number}": str(erasure.REFUSED_OPEN)} and outcome.messages == 0
    assert CaseEvent.objects.filter(case=case, note__contains="Piet Bakker").exists()
    case_transition_to_closed_long_ago(case)
    outcome = erasure.registrations_erase(match=person_find(PersonQuery(email="piet@example.nl")), reason="verzoek", actor=officer())
    assert outcome.messages == 1 and not outcome.refused
    assert not CaseEvent.objects.filter(case=case, note__contains="Piet").exists()
    assert not [data for data in CaseEvent.objects.filter(case=case).values_list("data", flat=True) if "Kerkpad" in str(data)]  # SQLite: no JSON contains


def case_transition_to_closed_long_ago(case) -> None:
    from cases.workflow.transitions import case_transition

    case_transition(case_id=case.pk, name="withdraw", actor=officer())
    close_years_ago(case, 6)


def test_the_erasure_is_logged_with_numbers_and_refusals_not_the_person(gemeente):
    open_case = case_of(acknowledged=True)
    erase("verzoek aan de balie")
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.reason) == ("erasure", "verzoek aan de balie")
    assert open_case.registration.number in request.refused and EMAIL not in request.refused


def test_an_erasure_needs_a_reason(gemeente):
    case_of(closed=True)
    with pytest.raises(ValidationError):
        erase("   ")


def test_rectification_corrects_the_address_on_every_case_with_the_reason(gemeente):
    cases = [case_of(acknowledged=True), case_of(closed=True)]
    match = person_find(PersonQuery(email=EMAIL))
    outcome = erasure.registrations_rectify(
        match=match,
        corrections={"sender_email": "geartsje@voorbeeld.nl", "sender_address": "Zoutsloot 4\n8861 AB Harlingen", "sender_phone": ""},
        reason="verhuisd en nieuw e-mailadres",
        actor=officer(),
    )
    assert sorted(outcome.done) == sorted(case.registration.number for case in cases)
    for case in cases:
        registration = Registration.objects.get(pk=case.registration_id)
        assert (registration.sender_email, registration.sender_address, registration.sender_name) == (
            "geartsje@voorbeeld.nl",
            "Zoutsloot 4\n8861 AB Harlingen",
            NAME,
        )
        event = CaseEvent.objects.get(case=case, name="rectified")
        assert "verhuisd" in event.note and EMAIL not in event.note and event.data == {"fields": ["sender_email", "sender_address"]}
    assert DataSubjectRequest.objects.get().kind == "rectification"


def test_rectification_refuses_a_bad_e_mail_address_and_an_empty_correction(gemeente):
    case_of(acknowledged=True)
    match = person_find(PersonQuery(email=EMAIL))
    with pytest.raises(ValidationError):
        erasure.registrations_rectify(match=match, corrections={"sender_email": "geen-adres"}, reason="typfout", actor=officer())
    with pytest.raises(ValidationError):
        erasure.registrations_rectify(match=match, corrections={"sender_name": "  "}, reason="typfout", actor=officer())
    assert Registration.objects.get().sender_email == EMAIL


def test_the_mailroom_may_not_erase(gemeente):
    case = case_of(closed=True)
    close_years_ago(case, 6)
    with pytest.raises(PermissionDenied):
        erasure.registrations_erase(match=person_find(PersonQuery(email=EMAIL)), reason="x", actor=UserFactory(username="postkamer", role=MAILROOM))
    assert CaseRecord.objects.get(case=case).erased_at is None
    assert timezone.localdate() >= CaseRecord.objects.get(case=case).destroy_on


def test_a_destroyed_case_is_not_filled_in_again_by_a_rectification(gemeente, django_capture_on_commit_callbacks):
    destroyed, current = case_of(closed=True), case_of(acknowledged=True)
    close_years_ago(destroyed, 6)
    archivist = UserFactory(username="archivaris", role=ARCHIVISTS)
    destruction_list = destruction.destruction_list_create(actor=archivist)
    with django_capture_on_commit_callbacks(execute=True):
        destruction.destruction_list_approve(list_id=destruction_list.pk, actor=archivist)
    match = person_find(PersonQuery(number=destroyed.registration.number))
    match.registrations.append(Registration.objects.get(pk=current.registration_id))
    outcome = erasure.registrations_rectify(match=match, corrections={"sender_name": "Geartsje de Haan"}, reason="getrouwd", actor=officer())
    assert outcome.done == [current.registration.number]
    assert outcome.refused == {destroyed.registration.number: str(erasure.ALREADY_ERASED)}
    assert Registration.objects.get(pk=destroyed.registration_id).sender_name == ""
    assert Registration.objects.get(pk=current.registration_id).sender_name == "Geartsje de Haan"
