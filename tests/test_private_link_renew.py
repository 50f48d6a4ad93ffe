"""A new private link: the old one dies at once, the new one reaches the citizen in a letter, once.

A link that went to a mistyped address or was forwarded shows the complaint for as long as it lives;
an officer replaces it from the case page, and correcting the e-mail address (AVG art. 16) does too.
"""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.correspondence.links import LINK_ALREADY_RENEWED, LINK_GONE, link_fingerprint, private_link_renew
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, LetterKind, OutgoingMessage
from cases.records import erasure
from cases.records.subject_access import PersonQuery, person_find
from cases.workflow.handling import case_merge
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

EMAIL = "g.hoekstra@voorbeeld.nl"


def page(client, token: str):
    return client.get(reverse("cases:case_status", kwargs={"token": token}))


def renew(client, case, reason="de link ging naar een verkeerd e-mailadres", seen=None):
    data = {"reason": reason, "seen": link_fingerprint(case) if seen is None else seen}
    return client.post(reverse("handvest_workspace:case_action", args=[case.pk, "new_link"]), data)


def shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_officer_renews_the_link_the_old_one_dies_and_the_citizen_gets_the_new_one(client, officer_client, gemeente):
    case = CaseFactory(acknowledged=True, email=EMAIL)
    old = case.public_token
    assert page(client, old).status_code == 200
    response = renew(officer_client, case)
    assert response.status_code == 302 and response["Location"].endswith("#persoonlijke-link")
    case.refresh_from_db()
    assert case.public_token != old and len(case.public_token) >= 43
    assert page(client, old).status_code == 404
    assert page(client, case.public_token).status_code == 200
    letter = OutgoingMessage.objects.get(case=case, kind=LetterKind.PRIVATE_LINK)
    assert case.public_token in letter.body_text and old not in letter.body_text
    assert case.registration.number in letter.subject and "De oude link werkt niet meer" in letter.body_text
    event = CaseEvent.objects.get(case=case, name="private_link_renewed")
    assert event.internal and "verkeerd e-mailadres" in event.note
    assert "verkeerd e-mailadres" not in page(client, case.public_token).content.decode()  # the reason is internal


def test_a_double_click_renews_once_and_sends_one_letter(officer_client, gemeente):
    case = CaseFactory(acknowledged=True, email=EMAIL)
    seen = link_fingerprint(case)
    renew(officer_client, case, seen=seen)
    second = renew(officer_client, case, seen=seen)  # the same page, posted again
    assert shown(second)[-1] == str(LINK_ALREADY_RENEWED)  # (the first post's message is still unread)
    assert OutgoingMessage.objects.filter(case=case, kind=LetterKind.PRIVATE_LINK).count() == 1
    assert CaseEvent.objects.filter(case=case, name="private_link_renewed").count() == 1


def test_a_renewal_needs_a_reason_and_a_case_handler(officer_client, gemeente):
    case = CaseFactory(acknowledged=True, email=EMAIL)
    old = case.public_token
    response = renew(officer_client, case, reason="   ")
    assert "Waarom een nieuwe link?" in " ".join(shown(response))
    with pytest.raises(ValidationError):
        private_link_renew(case_id=case.pk, reason="", actor=officer())
    with pytest.raises(PermissionDenied):
        private_link_renew(case_id=case.pk, reason="doorgestuurd", actor=UserFactory(username="redacteur", role=EDITORS))
    assert Case.objects.get(pk=case.pk).public_token == old
    assert not OutgoingMessage.objects.filter(case=case, kind=LetterKind.PRIVATE_LINK).exists()


def test_no_new_link_for_a_wiped_case_and_no_letter_for_a_merged_one(client, officer_client, gemeente):
    wiped = CaseFactory(closed=True, email=EMAIL)
    Case.objects.filter(pk=wiped.pk).update(public_token_revoked=True)
    with pytest.raises(WorkflowError, match=str(LINK_GONE)):
        private_link_renew(case_id=wiped.pk, reason="doorgestuurd", actor=officer())
    # A merged duplicate's leaked link must die too; its citizen follows the case it was merged into.
    duplicate, kept = CaseFactory(email=EMAIL), CaseFactory(email=EMAIL)
    case_merge(case_id=duplicate.pk, into_number=kept.registration.number, actor=officer())
    old = duplicate.public_token
    assert "Nieuwe persoonlijke link maken" in officer_client.get(reverse("handvest_workspace:case", args=[duplicate.pk])).content.decode()
    assert private_link_renew(case_id=duplicate.pk, reason="doorgestuurd", actor=officer()) is None
    assert page(client, old).status_code == 404 and Case.objects.get(pk=duplicate.pk).public_token != old
    assert not OutgoingMessage.objects.filter(case=duplicate, kind=LetterKind.PRIVATE_LINK).exists()
    assert "geen brief" in CaseEvent.objects.get(case=duplicate, name="private_link_renewed").note


def test_the_form_says_where_the_new_link_goes(officer_client, gemeente):
    case = CaseFactory(acknowledged=True, email=EMAIL)
    html = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert f"<strong>{EMAIL}</strong>" in html and "Privacyverzoeken" in html


def test_correcting_the_email_address_sends_a_new_link_to_the_corrected_one(gemeente, django_capture_on_commit_callbacks):
    case = CaseFactory(acknowledged=True, email=EMAIL, name="Geartsje Hoekstra")
    old = case.public_token
    match = person_find(PersonQuery(email=EMAIL))
    erasure.registrations_rectify(match=match, corrections={"sender_phone": "0517 123456"}, reason="nieuw nummer", actor=officer())
    assert Case.objects.get(pk=case.pk).public_token == old  # a new phone number: the link stays
    with django_capture_on_commit_callbacks(execute=True):
        erasure.registrations_rectify(match=match, corrections={"sender_email": "geartsje@voorbeeld.nl"}, reason="typfout", actor=officer())
    case.refresh_from_db()
    assert case.public_token != old
    letter = OutgoingMessage.objects.get(case=case, kind=LetterKind.PRIVATE_LINK)
    assert case.public_token in letter.body_text
    assert letter.status == "sent" and letter.to_email == "geartsje@voorbeeld.nl"
    assert letter.created_by is None  # the system writes it


def test_a_privacy_officer_without_case_handling_corrects_an_address_and_the_link_follows(gemeente, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    case = CaseFactory(acknowledged=True, email=EMAIL)
    privacy = UserFactory(username="privacy")
    privacy.user_permissions.add(Permission.objects.get(codename="handle_data_requests"))
    privacy = type(privacy).objects.get(pk=privacy.pk)  # permissions are cached per instance
    match = person_find(PersonQuery(email=EMAIL))
    with django_capture_on_commit_callbacks(execute=True):
        erasure.registrations_rectify(match=match, corrections={"sender_email": "nieuw@voorbeeld.nl"}, reason="typfout", actor=privacy)
    assert OutgoingMessage.objects.get(case=case, kind=LetterKind.PRIVATE_LINK).to_email == "nieuw@voorbeeld.nl"


def test_correcting_an_address_to_what_it_already_is_keeps_the_link(gemeente):
    case = CaseFactory(acknowledged=True, email=EMAIL)
    old = case.public_token
    match = person_find(PersonQuery(email=EMAIL))
    erasure.registrations_rectify(match=match, corrections={"sender_email": EMAIL.upper()}, reason="controle", actor=officer())
    assert Case.objects.get(pk=case.pk).public_token == old
    assert not OutgoingMessage.objects.filter(case=case, kind=LetterKind.PRIVATE_LINK).exists()
