"""The audit trail (BIO 8.15): every change to a case, its message, letters and tags is logged with
who and when, every read of a case's personal data by staff too (Logboek Dataverwerkingen fields),
the log holds no personal data itself, and no view can change it."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.urls import reverse

from cases.models import Case, CaseState, Registration
from cases.records.audit import HIDDEN
from cases.records.read_log import data_subject
from tests.factories import CaseFactory
from tests.test_intake_webform import FORM_URL, valid_data
from tests.test_letters_posted import queued_pdf_acknowledgement

NAME, EMAIL, PHONE = "Hiske Wijbenga-Terpstra", "hiske.wijbenga@example.nl", "0517-123987"


def entries_for(obj, action=None):
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    return entries.filter(action=action) if action is not None else entries


def everything_logged() -> str:
    return json.dumps(
        [[e.object_repr, e.changes, e.changes_text, e.additional_data, e.serialized_data] for e in LogEntry.objects.all()], default=str, ensure_ascii=False
    )


@pytest.fixture
def web_case(client, municipality):
    cache.clear()  # the web form's flood limit counts in the cache, across tests
    client.post(FORM_URL, valid_data(name=NAME, email=EMAIL, phone=PHONE, description="De bushalte bij de Zuiderhaven is al weken kapot."))
    return Case.objects.get(registration__sender_email=EMAIL)


def test_a_new_case_and_its_registration_are_logged_as_created(web_case):
    assert entries_for(web_case, LogEntry.Action.CREATE).count() == 1
    created = entries_for(web_case.registration, LogEntry.Action.CREATE).get()
    assert created.object_repr == web_case.registration.number


def test_a_step_in_the_workspace_is_logged_with_the_officer_and_the_fields(officer_client, handler, web_case):
    url = reverse("handvest_workspace:case_action", args=[web_case.pk, "transition"])
    officer_client.post(url, {"name": "acknowledge", "expected_state": web_case.state})
    update = entries_for(web_case, LogEntry.Action.UPDATE).latest("timestamp")
    assert update.actor == handler
    assert update.changes_dict["state"] == [CaseState.RECEIVED, CaseState.ACKNOWLEDGED]
    assert update.cid and len(update.cid) == 32


def test_a_change_to_personal_data_is_logged_without_the_values(web_case):
    registration = web_case.registration
    registration.sender_email = "nieuw.adres@example.nl"
    registration.save()
    change = entries_for(registration, LogEntry.Action.UPDATE).latest("timestamp")
    assert change.changes_dict["sender_email"] == [HIDDEN, HIDDEN]


def test_to_whom_a_complaint_was_forwarded_is_logged_without_the_value(web_case):
    """The wipe blanks ``forwarded_to`` as personal (a contact person's name); the log must not keep it either."""
    case = Case.objects.get(pk=web_case.pk)
    case.forwarded_to = "Wetterskip Fryslân, t.a.v. Hiltje Zwart"
    case.save()
    change = entries_for(case, LogEntry.Action.UPDATE).latest("timestamp")
    assert change.changes_dict["forwarded_to"] == ["", HIDDEN]
    assert "Hiltje" not in everything_logged()


def test_the_log_of_a_whole_case_holds_no_personal_data(officer_client, web_case):
    url = reverse("handvest_workspace:case_action", args=[web_case.pk, "transition"])
    officer_client.post(url, {"name": "acknowledge", "expected_state": web_case.state})
    officer_client.get(reverse("handvest_workspace:case", args=[web_case.pk]))
    logged = everything_logged()
    logged_actions = set(LogEntry.objects.values_list("content_type__model", "action"))
    assert {("registration", 0), ("case", 0), ("case", 1), ("case", 3)} <= logged_actions
    for personal in (NAME, "Wijbenga", EMAIL, PHONE, "Zuiderhaven", web_case.public_token):
        assert personal not in logged


def test_an_officer_reading_a_case_leaves_a_read_log_line(officer_client, handler, web_case):
    response = officer_client.get(reverse("handvest_workspace:case", args=[web_case.pk]))
    assert response.status_code == 200
    read = entries_for(web_case, LogEntry.Action.ACCESS).get()
    assert read.actor == handler
    assert read.cid == response["traceparent"].split("-")[1]
    assert read.additional_data["activity_id"] == "klachtbehandeling"
    assert read.additional_data["view"] == "handvest_workspace:case"
    assert read.additional_data["data_subject"] == data_subject(EMAIL, "")
    assert EMAIL not in read.additional_data["data_subject"]


def test_reads_about_one_person_share_one_pseudonym_and_differ_from_anothers(municipality):
    first = CaseFactory(email="Hiske@Example.nl")
    second = CaseFactory(email="hiske@example.nl")
    other = CaseFactory(email="sjoerd@example.nl")
    subjects = [data_subject(case.registration.sender_email, case.registration.number) for case in (first, second, other)]
    assert subjects[0] == subjects[1] != subjects[2]


def test_downloading_a_letter_pdf_is_a_read(officer_client, handler, municipality):
    letter = queued_pdf_acknowledgement(CaseFactory(email=""))
    assert officer_client.get(reverse("handvest_workspace:letter_pdf", args=[letter.pk])).status_code == 200
    assert entries_for(letter, LogEntry.Action.ACCESS).get().actor == handler


def test_a_refused_read_is_not_logged_as_a_read(client, web_case):
    from tests.factories import UserFactory

    editor = UserFactory(username="redactie", role="Redacteuren")
    client.force_login(editor)
    assert client.get(reverse("handvest_workspace:case", args=[web_case.pk])).status_code == 403
    assert not entries_for(web_case, LogEntry.Action.ACCESS).exists()


def test_the_officer_sees_the_history_of_a_case(officer_client, handler, web_case):
    officer_client.get(reverse("handvest_workspace:case", args=[web_case.pk]))
    page = officer_client.get(reverse("handvest_workspace:case_history", args=[web_case.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "aangemaakt" in html and "ingezien" in html and handler.username in html
    assert EMAIL not in html


def test_no_view_can_change_the_log(client, officer_client, web_case):
    url = reverse("handvest_workspace:case_history", args=[web_case.pk])
    before = list(LogEntry.objects.values_list("pk", "changes"))
    assert officer_client.post(url, {}).status_code == 405
    # Django's own admin (which could edit log entries) is not mounted, not even for a superuser.
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "x" * 12))
    entry = LogEntry.objects.first()
    for path in ("/admin/", f"/admin/auditlog/logentry/{entry.pk}/change/", f"/admin/auditlog/logentry/{entry.pk}/delete/"):
        assert client.get(path).status_code == 404
        assert client.post(path, {"post": "yes"}).status_code in (403, 404, 405)
    assert list(LogEntry.objects.filter(pk__in=[pk for pk, _ in before]).values_list("pk", "changes")) == before


def test_the_history_page_is_for_officers_only(client, web_case):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="postkamer1", role="Postkamer"))
    assert client.get(reverse("handvest_workspace:case_history", args=[web_case.pk])).status_code == 403


def test_changes_made_outside_a_request_have_no_actor(web_case):
    Registration.objects.filter(pk=web_case.registration_id)  # a queryset update bypasses the model, and the log
    web_case.registration.subject = "gewijzigd door een taak"
    web_case.registration.save()
    change = entries_for(web_case.registration, LogEntry.Action.UPDATE).latest("timestamp")
    assert change.actor is None and change.cid is None
