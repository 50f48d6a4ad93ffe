"""Consent to wait longer (Awb 9:11 lid 2 and 3): one extension with a notice; any further one only with
the complainant's written consent, asked for here and given on the private page or by letter."""

import datetime
import logging

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import formats

from cases import errors
from cases.conversation import texts
from cases.conversation.consent import consent_answer, consent_request
from cases.correspondence.steps import case_extend_with_notice
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, ConsentRequest, ConsentStatus, LetterKind, OutgoingMessage
from cases.workflow.transitions import case_extend
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

REASON = "Wij wachten op een verklaring van een collega die ziek is."


def date_nl(day: datetime.date) -> str:
    return formats.date_format(day, "j F Y")


def extended_case(**traits):
    case = CaseFactory(in_treatment=True, **traits)
    case_extend_with_notice(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(weeks=2), reason="Drukte", actor=officer())
    return Case.objects.get(pk=case.pk)


def ask_consent(case, days=21, reason=REASON):
    return consent_request(case_id=case.pk, proposed_due=case.effective_answer_due + datetime.timedelta(days=days), reason=reason, actor=officer())


def consent_url(case, consent):
    return reverse("cases:consent_reply", kwargs={"token": case.public_token, "pk": consent.pk})


def test_a_second_postponement_without_consent_is_refused_with_the_reason(gemeente, caplog):
    case = extended_case()
    due = case.extended_answer_due
    with caplog.at_level(logging.INFO), pytest.raises(WorkflowError) as exc:
        case_extend(case_id=case.pk, new_due=due + datetime.timedelta(days=7), reason="Nog drukker", actor=officer())
    assert str(exc.value) == str(errors.EXTENSION_TWICE) and "schriftelijk mee instemt" in str(exc.value)
    case.refresh_from_db()
    assert case.extended_answer_due == due


def test_consent_is_only_asked_after_the_one_extension(gemeente):
    case = CaseFactory(in_treatment=True)
    with pytest.raises(WorkflowError, match="nog niet verlengd"):
        ask_consent(case)
    assert not ConsentRequest.objects.exists()


def test_asking_consent_sends_a_letter_through_the_outbox_and_leaves_the_term(gemeente):
    case = extended_case()
    consent = ask_consent(case)
    letter = OutgoingMessage.objects.get(pk=consent.letter_id)
    assert letter.kind == LetterKind.CONSENT_REQUEST and REASON in letter.body_text and "9:11 lid 3" in letter.body_text
    assert f"{consent.proposed_due:%Y}" in letter.body_text
    case.refresh_from_db()
    assert case.extended_answer_due < consent.proposed_due


def test_agreed_on_the_private_page_moves_the_answer_term(client, gemeente):
    case = extended_case()
    consent = ask_consent(case)
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Mogen wij meer tijd nemen?" in html and consent_url(case, consent) in html
    assert f"in plaats van {date_nl(case.effective_answer_due)}" in html
    response = client.post(consent_url(case, consent), {"answer": "agreed"})
    assert response.status_code == 302
    case.refresh_from_db()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.AGREED and consent.applied and case.extended_answer_due == consent.proposed_due
    assert CaseEvent.objects.filter(case=case, name="extend_with_consent").count() == 1
    after = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Ja, ik ga akkoord met meer tijd." in after
    assert "in plaats van" not in after  # the term moved: 'by 8 March instead of 8 March' made no sense


def test_refused_leaves_the_term_and_a_second_postponement_stays_refused(client, gemeente):
    case = extended_case()
    due = case.extended_answer_due
    consent = ask_consent(case)
    client.post(consent_url(case, consent), {"answer": "refused", "note": "Ik wil snel antwoord."})
    consent.refresh_from_db()
    case.refresh_from_db()
    assert consent.status == ConsentStatus.REFUSED and not consent.applied and case.extended_answer_due == due
    with pytest.raises(WorkflowError):
        case_extend(case_id=case.pk, new_due=due + datetime.timedelta(days=7), reason="Toch", actor=officer())


def test_the_citizen_answers_once(client, gemeente):
    case = extended_case()
    consent = ask_consent(case)
    consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=False)
    with pytest.raises(WorkflowError, match=str(texts.CONSENT_NOT_PENDING)[:20]):
        consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=True)
    client.post(consent_url(case, consent), {"answer": "agreed"})
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REFUSED


def test_a_choice_is_required(client, gemeente):
    case = extended_case()
    consent = ask_consent(case)
    response = client.post(consent_url(case, consent), {})
    assert response.status_code == 400 and str(texts.CONSENT_ANSWER_UNKNOWN) in response.content.decode()
    assert ConsentRequest.objects.get().status == ConsentStatus.PENDING


def test_a_link_cannot_answer_the_consent_of_another_case(client, gemeente):
    mine, theirs = extended_case(), extended_case()
    consent = ask_consent(theirs)
    assert client.post(reverse("cases:consent_reply", kwargs={"token": mine.public_token, "pk": consent.pk}), {"answer": "agreed"}).status_code == 404
    with pytest.raises(WorkflowError):
        consent_answer(case_id=mine.pk, consent_id=consent.pk, agreed=True)
    assert ConsentRequest.objects.get().status == ConsentStatus.PENDING


def test_the_officer_records_consent_received_by_letter(officer_client, gemeente):
    case = extended_case(by_post=True)
    consent = ask_consent(case)
    url = reverse("handvest_conversation:action", args=[case.pk, "consent_record"])
    response = officer_client.post(url, {"consent": consent.pk, "answer": "agreed", "channel": "letter", "note": "Brief van 3 december"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"De indiener stemt in: de antwoordtermijn is nu {consent.proposed_due:%d-%m-%Y}."]
    consent.refresh_from_db()
    assert consent.answer_channel == "letter" and consent.recorded_by is not None and consent.applied


def test_only_an_officer_records_consent_by_letter(gemeente):
    case = extended_case()
    consent = ask_consent(case)
    with pytest.raises(PermissionDenied):
        consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=True, channel="letter", actor=UserFactory(username="buiten"))
    assert ConsentRequest.objects.get().status == ConsentStatus.PENDING


def test_consent_by_phone_does_not_move_the_term_and_a_refusal_by_phone_is_recorded(gemeente, caplog):
    """Awb 9:11 lid 3: further delay needs the complainant's written consent; saying no needs no writing."""
    case = extended_case()
    consent = ask_consent(case)
    with pytest.raises(ValidationError) as refused, caplog.at_level(logging.WARNING):
        consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=True, channel="phone", actor=officer())
    assert refused.value.message_dict == {"channel": [str(texts.CONSENT_NOT_IN_WRITING)]}
    assert "consent answer refused" in caplog.text
    assert ConsentRequest.objects.get().status == ConsentStatus.PENDING
    assert Case.objects.get(pk=case.pk).effective_answer_due == case.effective_answer_due
    consent_answer(case_id=case.pk, consent_id=consent.pk, agreed=False, channel="phone", actor=officer())
    assert ConsentRequest.objects.get().status == ConsentStatus.REFUSED


def test_consent_requests_need_a_reason_and_a_later_date(gemeente):
    case = extended_case()
    with pytest.raises(ValidationError):
        ask_consent(case, reason=" ")
    with pytest.raises(ValidationError, match="na de huidige termijn"):
        ask_consent(case, days=-3)
    assert not ConsentRequest.objects.exists()


def test_only_one_consent_request_at_a_time(gemeente):
    case = extended_case()
    ask_consent(case)
    with pytest.raises(WorkflowError, match=str(texts.CONSENT_ALREADY_PENDING)[:20]):
        ask_consent(case, days=30)
    assert ConsentRequest.objects.count() == 1


def test_the_officer_asks_consent_from_the_case_page(officer_client, gemeente):
    case = extended_case()
    detail = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert "Instemming vragen" in detail
    due = case.extended_answer_due + datetime.timedelta(days=14)
    url = reverse("handvest_conversation:action", args=[case.pk, "consent_request"])
    officer_client.post(url, {"expected_state": case.state, "proposed_due": due.isoformat(), "reason": REASON})
    assert ConsentRequest.objects.filter(case=case, status=ConsentStatus.PENDING).count() == 1
    assert "Wachten op instemming met uitstel (1)" in officer_client.get(reverse("handvest_conversation:queue")).content.decode()


def test_refusals_are_logged(gemeente, caplog):
    case = CaseFactory(in_treatment=True)
    with caplog.at_level(logging.WARNING, logger="cases.conversation"), pytest.raises(WorkflowError):
        ask_consent(case)
    assert any("consent request refused" in r.getMessage() for r in caplog.records)


def test_a_request_whose_date_has_passed_expires_and_can_no_longer_be_answered(client, gemeente, caplog):
    from cases.conversation.consent import consents_expire
    from cases.tasks import expire_consents

    case = extended_case()
    consent = ask_consent(case)
    due_before = case.extended_answer_due
    ConsentRequest.objects.filter(pk=consent.pk).update(proposed_due=datetime.date.today() - datetime.timedelta(days=1))
    page = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert consent_url(case, consent) not in page  # no longer offered on the private page
    response = client.post(consent_url(case, consent), {"answer": "agreed"})
    assert response.status_code == 400 and "Dit verzoek is verlopen" in response.content.decode()
    case.refresh_from_db()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING and case.extended_answer_due == due_before  # the refused answer changed nothing
    assert "consent answer" in caplog.text
    assert expire_consents.apply().get() == 1
    assert consents_expire() == 0  # once
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.EXPIRED and consent.expired_at is not None
    assert CaseEvent.objects.filter(case=case, name="consent_expired").count() == 1
    assert "Dit verzoek is verlopen" in client.get(consent_url(case, consent)).content.decode()
    ask_consent(Case.objects.get(pk=case.pk), days=30)  # an expired request does not block a new one
    from config.celery import app

    assert app.conf.beat_schedule["consents-expire"]["task"] == expire_consents.name


def test_a_request_expires_when_the_case_is_answered_and_an_open_one_does_not(gemeente):
    from cases.conversation.consent import consents_expire

    answered, waiting = extended_case(), extended_case()
    first, second = ask_consent(answered), ask_consent(waiting)
    Case.objects.filter(pk=answered.pk).update(state="answered")
    assert consents_expire() == 1
    assert ConsentRequest.objects.get(pk=first.pk).status == ConsentStatus.EXPIRED
    assert ConsentRequest.objects.get(pk=second.pk).status == ConsentStatus.PENDING
