"""Letters: what each template must say, and what the officer may (not) send."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, translation

from cases.correspondence.composing import KIND_DOES_NOT_FIT, UNKNOWN_KIND, letter_compose
from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import (
    ACKNOWLEDGEMENT_ALREADY_SENT,
    EMPTY_BODY,
    NO_ADDRESS,
    OMBUDSMAN_MISSING,
    PLACEHOLDER_LEFT,
    acknowledgement_queue,
    letter_queue,
)
from cases.correspondence.steps import case_extend_with_notice, case_step_with_letter
from cases.errors import WorkflowError
from cases.models import CaseEvent, CaseState, DeclineGround, LetterKind, OutboxStatus, OutgoingMessage, Registration
from cases.workflow.transitions import case_extend, case_transition
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


RECEIVED = datetime.date.today() - datetime.timedelta(days=3)


def nl(day: datetime.date) -> str:
    with translation.override("nl"):
        return formats.date_format(day, "j F Y")


def errors_of(excinfo) -> str:
    return " ".join(str(message) for messages in excinfo.value.message_dict.values() for message in messages)


# --- what each template says -------------------------------------------------------------------
def test_acknowledgement_names_receipt_date_number_next_steps_answer_date_and_private_link(gemeente):
    case = CaseFactory(received_on=RECEIVED)
    letter = letter_compose(case=case, kind="acknowledgement")
    number = case.registration.number
    assert number in letter.subject
    assert f"Op {nl(RECEIVED)} hebben wij uw klacht ontvangen" in letter.body_text
    assert f"Uw registratienummer is {number}" in letter.body_text
    assert "Wat gebeurt er nu?" in letter.body_text
    assert f"uiterlijk {nl(case.answer_due)} een schriftelijk antwoord" in letter.body_text
    assert f"/zaak/{case.public_token}/" in letter.body_text
    assert letter.body_text.startswith(f"Beste {case.registration.sender_name},")


def test_acknowledgement_of_a_suggestion_speaks_of_a_suggestion(gemeente):
    case = CaseFactory(suggestion=True, received_on=RECEIVED)
    letter = letter_compose(case=case, kind="acknowledgement")
    assert "uw suggestie ontvangen" in letter.body_text
    assert "klacht" not in letter.body_text


def test_interim_notice_gives_the_reason_and_the_new_date(gemeente):
    case = CaseFactory(in_treatment=True, received_on=RECEIVED)
    new_due = case.answer_due + datetime.timedelta(weeks=2)
    case = case_extend(case_id=case.pk, new_due=new_due, reason="Wij wachten op informatie van de aannemer.", actor=officer())
    letter = letter_compose(case=case, kind="interim_notice")
    assert "Wij wachten op informatie van de aannemer." in letter.body_text
    assert f"uiterlijk {nl(case.extended_answer_due)} ons antwoord" in letter.body_text
    assert nl(case.answer_due) in letter.body_text  # the date first promised
    assert "9:11 lid 2" in letter.body_text
    assert "[[" not in letter.body_text


def test_hearing_invitation_cites_awb_9_10_with_date_time_and_place(gemeente):
    case = CaseFactory(hearing=True, received_on=RECEIVED)
    letter = letter_compose(case=case, kind="hearing_invitation", hearing_time="14.00 uur", hearing_place="Stadhuis, Noorderhaven 86")
    assert "artikel 9:10" in letter.body_text
    with translation.override("nl"):
        assert formats.date_format(case.hearing_on, "l j F Y") in letter.body_text
    assert "14.00 uur" in letter.body_text and "Noorderhaven 86" in letter.body_text
    assert "Wilt u liever geen gesprek?" in letter.body_text


def test_forward_notice_names_the_other_authority_and_awb_9_7(gemeente):
    case = CaseFactory(received_on=RECEIVED)
    case = case_transition(case_id=case.pk, name="forward", actor=officer(), to="Wetterskip Fryslân")
    letter = letter_compose(case=case, kind="forward_notice")
    assert letter.body_text.count("Wetterskip Fryslân") == 2
    assert "artikel 2:3" in letter.body_text
    assert "[[" not in letter.body_text


def test_decline_states_the_awb_9_8_ground(gemeente):
    case = CaseFactory(received_on=RECEIVED)
    case = case_transition(case_id=case.pk, name="decline", actor=officer(), ground="9:8-1b")
    letter = letter_compose(case=case, kind="decline", explanation="Wat u beschrijft, gebeurde in 2023.")
    assert "Awb 9:8 lid 1b: de gedraging was langer dan een jaar geleden" in letter.body_text
    assert "Wat u beschrijft, gebeurde in 2023." in letter.body_text
    assert "Nationale ombudsman" in letter.body_text


def test_explanation_carries_the_officers_explanation_and_the_answer_date(gemeente):
    case = CaseFactory(in_treatment=True, received_on=RECEIVED)
    letter = letter_compose(case=case, kind="explanation", explanation="De balie was die ochtend onderbezet door ziekte.")
    assert "De balie was die ochtend onderbezet door ziekte." in letter.body_text
    assert nl(case.answer_due) in letter.body_text


def test_answer_has_findings_judgement_conclusions_and_the_ombudsman_awb_9_12(gemeente):
    case = CaseFactory(explained=True, received_on=RECEIVED)
    letter = letter_compose(
        case=case,
        kind="answer",
        outcome="deels_gegrond",
        findings="U stond 50 minuten aan de balie te wachten.",
        judgement="Dat is langer dan wij beloven.",
        conclusions="Wij zetten op drukke ochtenden een extra medewerker in.",
    )
    body = letter.body_text
    assert "Wat hebben wij onderzocht?\nU stond 50 minuten aan de balie te wachten." in body
    assert "Wat vinden wij van uw klacht?\nWij vinden uw klacht deels gegrond. Dat is langer dan wij beloven." in body
    assert "Wat gaan wij doen?\nWij zetten op drukke ochtenden een extra medewerker in." in body
    assert "Nationale ombudsman" in body and "www.nationaleombudsman.nl" in body
    assert f"Op {nl(case.hearing_on)} hebben wij met u over uw klacht gesproken." in body


def test_suggestion_response_says_what_is_done_with_it(gemeente):
    case = CaseFactory(suggestion=True, acknowledged=True, received_on=RECEIVED)
    case = case_transition(case_id=case.pk, name="respond", actor=officer(), outcome="next_revision")
    letter = letter_compose(case=case, kind="suggestion_response", reasons="In 2027 herzien wij het handvest.")
    assert "Wij nemen uw suggestie mee als wij ons kwaliteitshandvest opnieuw bekijken." in letter.body_text
    assert "In 2027 herzien wij het handvest." in letter.body_text


@pytest.mark.parametrize("kind", [k for k in LetterKind.values if k not in ("suggestion_response",)])
def test_every_letter_carries_the_municipalitys_name_contact_and_the_number(gemeente, kind):
    case = CaseFactory(hearing=True, received_on=RECEIVED)
    letter = letter_compose(case=case, kind=kind)
    assert case.registration.number in letter.subject
    assert "Gemeente Harlingen" in letter.body_text
    assert "14 0517" in letter.body_text and "info@harlingen.nl" in letter.body_text


def test_a_letter_without_the_officers_input_keeps_places_to_fill(gemeente):
    case = CaseFactory(explained=True, received_on=RECEIVED)
    letter = letter_compose(case=case, kind="answer")
    assert letter.body_text.count("[[") == 3  # findings, judgement, conclusions


def test_letter_text_is_plain_not_html_escaped(municipality):
    case = CaseFactory(received_on=RECEIVED)
    Registration.objects.filter(pk=case.registration_id).update(sender_name="Jan O'Brien & Zn")
    case.refresh_from_db()
    letter = letter_compose(case=case, kind="acknowledgement")
    assert "Beste Jan O'Brien & Zn," in letter.body_text


def test_a_municipality_overrides_a_letter_through_template_dirs(municipality, settings, tmp_path):
    folder = tmp_path / "gemeente" / "letters" / "acknowledgement"
    folder.mkdir(parents=True)
    (folder / "body.txt").write_text("Moi {{ name }}! Wy hawwe jo klacht {{ number }} ûntfongen.\n", encoding="utf-8")
    templates = [dict(settings.TEMPLATES[0])]
    templates[0]["DIRS"] = [tmp_path / "gemeente", *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    case = CaseFactory(received_on=RECEIVED)
    letter = letter_compose(case=case, kind="acknowledgement")
    assert letter.body_text == f"Moi {case.registration.sender_name}! Wy hawwe jo klacht {case.registration.number} ûntfongen."
    assert letter.subject.startswith("Wij hebben uw klacht ontvangen")  # not overridden: the shipped one


def test_a_letter_that_does_not_fit_the_case_is_refused(municipality):
    case = CaseFactory(suggestion=True)
    with pytest.raises(ValidationError) as excinfo:
        letter_compose(case=case, kind="answer")
    assert errors_of(excinfo) == str(KIND_DOES_NOT_FIT % {"letter": LetterKind.ANSWER.label, "case_kind": "verbetersuggestie"})


def test_an_unknown_letter_kind_is_refused(municipality):
    case = CaseFactory()
    with pytest.raises(ValidationError) as excinfo:
        letter_compose(case=case, kind="love_letter")
    assert errors_of(excinfo) == str(UNKNOWN_KIND % {"kind": "love_letter"})


# --- what the officer may send -----------------------------------------------------------------
def _answer_text(case):
    return letter_compose(case=case, kind="answer", findings="F.", judgement="J.", conclusions="C.")


def test_queue_refuses_an_empty_letter_and_writes_nothing(municipality):
    case = CaseFactory(explained=True)
    with pytest.raises(ValidationError) as excinfo:
        letter_queue(case_id=case.pk, kind="explanation", subject="Uitleg", body_text="  ", actor=officer())
    assert errors_of(excinfo) == str(EMPTY_BODY)
    assert not OutgoingMessage.objects.exists()


def test_queue_refuses_a_letter_with_places_left_to_fill(municipality):
    case = CaseFactory(explained=True)
    draft = letter_compose(case=case, kind="answer")
    with pytest.raises(ValidationError) as excinfo:
        letter_queue(case_id=case.pk, kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
    assert errors_of(excinfo) == str(PLACEHOLDER_LEFT)
    assert not OutgoingMessage.objects.exists()


def test_an_answer_without_the_ombudsman_is_refused(municipality):
    case = CaseFactory(explained=True)
    draft = _answer_text(case)
    body = draft.body_text.replace("Nationale ombudsman", "klachtencommissie")
    with pytest.raises(ValidationError) as excinfo:
        letter_queue(case_id=case.pk, kind="answer", subject=draft.subject, body_text=body, actor=officer())
    assert errors_of(excinfo) == str(OMBUDSMAN_MISSING % {"name": "de Nationale ombudsman"})


def test_a_decline_without_the_ombudsman_is_refused_and_the_case_stays_open(municipality):
    """Awb 9:8 lid 3: the notice that a complaint is not handled names the ombudsman too (9:12 lid 2 applies)."""
    case = CaseFactory(acknowledged=True)
    draft = letter_compose(case=case, kind="decline", decline_ground=DeclineGround.OLDER_THAN_A_YEAR.label, explanation="Het gesprek was in 2024.")
    assert "Nationale ombudsman" in draft.body_text and "[[" not in draft.body_text
    body = draft.body_text.replace("Nationale ombudsman", "klachtencommissie")
    with pytest.raises(ValidationError) as excinfo:
        case_step_with_letter(
            case_id=case.pk, name="decline", kind="decline", subject=draft.subject, body_text=body, actor=officer(), ground=DeclineGround.OLDER_THAN_A_YEAR
        )
    assert errors_of(excinfo) == str(OMBUDSMAN_MISSING % {"name": "de Nationale ombudsman"})
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED and not case.decline_ground
    assert not OutgoingMessage.objects.filter(kind="decline").exists()


def test_a_letter_to_a_citizen_without_any_address_is_refused(municipality):
    case = CaseFactory(email="")
    Registration.objects.filter(pk=case.registration_id).update(sender_address="")
    with pytest.raises(ValidationError) as excinfo:
        letter_queue(case_id=case.pk, kind="other", subject="Bericht", body_text="Beste inwoner, tekst.", actor=officer())
    assert errors_of(excinfo) == str(NO_ADDRESS)
    assert not OutgoingMessage.objects.exists()


def test_an_editor_may_not_send_letters(municipality):
    case = CaseFactory()
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied):
        letter_queue(case_id=case.pk, kind="other", subject="Bericht", body_text="Tekst.", actor=editor)
    assert not OutgoingMessage.objects.exists()


def test_the_letter_is_written_in_the_callers_transaction_and_sent_after_commit(municipality, django_capture_on_commit_callbacks):
    case = CaseFactory(explained=True)
    draft = _answer_text(case)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        case_transition(case_id=case.pk, name="answer", actor=officer())
        message = letter_queue(case_id=case.pk, kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
        assert mail.outbox == []  # nothing leaves before commit
    assert callbacks
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert len(mail.outbox) == 1


def test_when_the_step_fails_its_letter_is_not_written(municipality):
    case = CaseFactory()
    draft = _answer_text(CaseFactory(explained=True))
    with pytest.raises(WorkflowError):
        case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
    assert not OutgoingMessage.objects.filter(case=case).exists()


def test_when_the_letter_is_refused_the_step_is_undone(municipality):
    case = CaseFactory(explained=True)
    with pytest.raises(ValidationError):
        case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject="Antwoord", body_text="zonder verwijzing", actor=officer())
    case.refresh_from_db()
    assert case.state == "explained"
    assert not CaseEvent.objects.filter(case=case, name="answer").exists()


def test_extending_writes_the_interim_notice_with_reason_and_date(municipality):
    case = CaseFactory(in_treatment=True)
    new_due = case.answer_due + datetime.timedelta(weeks=3)
    case, message = case_extend_with_notice(case_id=case.pk, new_due=new_due, reason="De aannemer antwoordt pas in maart.", actor=officer())
    assert message.kind == LetterKind.INTERIM_NOTICE
    assert "De aannemer antwoordt pas in maart." in message.body_text
    assert nl(case.extended_answer_due) in message.body_text


def test_a_double_click_writes_one_letter(municipality):
    case = CaseFactory(in_treatment=True)
    draft = letter_compose(case=case, kind="explanation", explanation="Zo zit het.")
    first = letter_queue(case_id=case.pk, kind="explanation", subject=draft.subject, body_text=draft.body_text, actor=officer())
    second = letter_queue(case_id=case.pk, kind="explanation", subject=draft.subject, body_text=draft.body_text, actor=officer())
    assert first.pk == second.pk
    assert OutgoingMessage.objects.filter(case=case).count() == 1


def test_the_subject_always_carries_the_registration_number(municipality):
    case = CaseFactory(in_treatment=True)
    message = letter_queue(case_id=case.pk, kind="other", subject="Uw vraag\nover de stoep", body_text="Beste inwoner, zo zit het.", actor=officer())
    assert message.subject == f"Uw vraag over de stoep ({case.registration.number})"


def test_the_officer_edits_the_waiting_acknowledgement_instead_of_adding_one(municipality):
    case = CaseFactory()
    automatic = acknowledgement_queue(case_id=case.pk)
    edited = letter_queue(
        case_id=case.pk, kind="acknowledgement", subject="Ontvangen", body_text=automatic.body_text + "\nPS: wij bellen u morgen.", actor=officer()
    )
    assert edited.pk == automatic.pk
    assert edited.body_text.endswith("PS: wij bellen u morgen.")
    assert not edited.automatic
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").count() == 1


def test_a_second_acknowledgement_after_one_went_out_is_refused(municipality):
    case = CaseFactory()
    message = acknowledgement_queue(case_id=case.pk)
    outgoing_send(outgoing_id=message.pk)
    with pytest.raises(ValidationError) as excinfo:
        letter_queue(case_id=case.pk, kind="acknowledgement", subject="Nog eens", body_text="Tekst.", actor=officer())
    assert errors_of(excinfo) == str(ACKNOWLEDGEMENT_ALREADY_SENT % {"status": OutboxStatus.SENT.label})
    assert len(mail.outbox) == 1
