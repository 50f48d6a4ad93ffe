"""The archive and privacy pages enforce their roles on the server: the archivist reviews and approves
destruction lists with metadata only (never a complaint's content), officers handle citizens'
requests, and editors and the mailroom get 403 on all of it."""

import io
import re
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRecord, DataSubjectRequest, DestructionList, DestructionListStatus, RecordHold, Registration, ResultType
from cases.permissions import ARCHIVISTS
from cases.records import destruction
from cms.roles import EDITORS, MAILROOM, QUALITY_OFFICERS
from tests.factories import CaseFactory, UserFactory
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db

NAME = "Sjoukje Dijkstra-Visser"
EMAIL = "sjoukje.dv@voorbeeld.nl"
TEXT = "De vuilnisman liet de container midden op de Lanen staan"
SUBJECT = "Container op de Lanen"


@pytest.fixture
def world(gemeente):
    case = CaseFactory(closed=True, name=NAME, email=EMAIL, text=TEXT, subject=SUBJECT, address="Lanen 7\n8861 AB Harlingen")
    close_years_ago(case, 6)
    users = {
        "editor": UserFactory(username="redacteur", role=EDITORS),
        "mailroom": UserFactory(username="postkamer", role=MAILROOM),
        "officer": UserFactory(username="kwaliteit", role=QUALITY_OFFICERS),
        "archivist": UserFactory(username="archivaris", first_name="Anne", last_name="Archief", role=ARCHIVISTS),
    }
    destruction_list = destruction.destruction_list_create(actor=users["archivist"])
    return {"case": case, "users": users, "list": destruction_list, "item": destruction_list.items.get()}


def as_user(client, world, role):
    client.force_login(world["users"][role])
    return client


# (name, method, url builder) of every archivist page, and of every privacy page.
ARCHIVIST_PAGES = [
    ("lists", "get", lambda w: reverse("handvest_records:lists")),
    ("create", "post", lambda w: reverse("handvest_records:list_create")),
    ("detail", "get", lambda w: reverse("handvest_records:list", args=[w["list"].pk])),
    ("approve", "post", lambda w: reverse("handvest_records:list_action", args=[w["list"].pk, "goedkeuren"])),
    ("exclude", "post", lambda w: reverse("handvest_records:item_action", args=[w["item"].pk, "uitzonderen"])),
    ("statement", "get", lambda w: reverse("handvest_records:statement", args=[w["list"].pk])),
]
PRIVACY_PAGES = [
    ("search", "post", lambda w: reverse("handvest_privacy:search")),
    ("export", "post", lambda w: reverse("handvest_privacy:export")),
    ("rectify", "post", lambda w: reverse("handvest_privacy:rectify")),
    ("erase", "post", lambda w: reverse("handvest_privacy:erase")),
]
POST_DATA = {
    "email": EMAIL,
    "registrations": [],
    "wissen-reason": "x",
    "wissen-confirm": "on",
    "verbeteren-reason": "x",
    "verbeteren-sender_name": "X",
    "reason": "x",
}


@pytest.mark.parametrize(("page", "method", "url"), ARCHIVIST_PAGES + PRIVACY_PAGES, ids=[page[0] for page in ARCHIVIST_PAGES + PRIVACY_PAGES])
@pytest.mark.parametrize("role", ["editor", "mailroom"])
def test_editors_and_the_mailroom_get_403_and_change_nothing(client, world, role, page, method, url):
    response = getattr(as_user(client, world, role), method)(url(world), POST_DATA if method == "post" else None)
    assert response.status_code == 403
    assert NAME not in response.content.decode() and TEXT not in response.content.decode()
    assert DestructionList.objects.get().status == DestructionListStatus.PROPOSED
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == NAME
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize(("page", "method", "url"), ARCHIVIST_PAGES, ids=[page[0] for page in ARCHIVIST_PAGES])
def test_an_officer_may_not_open_the_archivists_pages(client, world, page, method, url):
    assert getattr(as_user(client, world, "officer"), method)(url(world)).status_code == 403


@pytest.mark.parametrize(("page", "method", "url"), PRIVACY_PAGES, ids=[page[0] for page in PRIVACY_PAGES])
def test_the_archivist_may_not_open_the_privacy_pages(client, world, page, method, url):
    response = getattr(as_user(client, world, "archivist"), method)(url(world), POST_DATA if method == "post" else None)
    assert response.status_code == 403


def test_the_archivist_sees_no_case_and_no_personal_data(client, world):
    client = as_user(client, world, "archivist")
    assert client.get(reverse("handvest_workspace:case", args=[world["case"].pk])).status_code == 403
    page = client.get(reverse("handvest_records:list", args=[world["list"].pk])).content.decode()
    assert world["case"].registration.number in page and "Klacht afgehandeld" in page and "13.1" in page
    archive = client.get(reverse("handvest_records:case", args=[world["case"].pk]))  # the case's archive metadata
    assert archive.status_code == 200 and "Selectielijst" in archive.content.decode()
    for personal in (NAME, EMAIL, TEXT, SUBJECT, "Lanen 7"):
        assert personal not in page and personal not in archive.content.decode()


def test_the_archivist_lifts_the_hold_of_an_exclusion_but_changes_nothing_else(client, world):
    client = as_user(client, world, "archivist")
    case = world["case"]
    client.post(reverse("handvest_records:item_action", args=[world["item"].pk, "uitzonderen"]), {"reason": "Rekenkameronderzoek"})
    assert CaseRecord.objects.get(case=case).hold == RecordHold.OTHER
    archive_url = reverse("handvest_records:case", args=[case.pk])
    page = client.get(archive_url).content.decode()
    assert "Opschorting opheffen" in page and "Voorlopig niet vernietigen" not in page and "Resultaattype wijzigen" not in page
    for action, data in (("opschorten", {"hold": "objection", "reason": "x"}), ("resultaattype", {"result_type": 1, "reason": "x"})):
        assert client.post(reverse("handvest_records:case_action", args=[case.pk, action]), data).status_code == 403
    response = client.post(reverse("handvest_records:case_action", args=[case.pk, "opheffen"]), {"reason": "Onderzoek afgerond"}, follow=True)
    assert response.status_code == 200
    record = CaseRecord.objects.get(case=case)
    assert record.hold == "" and record.hold_reason == ""


def test_the_archivist_excludes_approves_and_downloads_the_statement(client, world, django_capture_on_commit_callbacks):
    client = as_user(client, world, "archivist")
    destruction_list = world["list"]
    response = client.post(
        reverse("handvest_records:item_action", args=[world["item"].pk, "uitzonderen"]), {"reason": "Lopend onderzoek van de rekenkamer"}, follow=True
    )
    assert "uitgezonderd" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("handvest_records:list_action", args=[destruction_list.pk, "goedkeuren"]), follow=True)
    assert response.status_code == 200
    destruction_list.refresh_from_db()
    assert destruction_list.status == DestructionListStatus.DONE and destruction_list.approver_name == "Anne Archief"
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == NAME  # excluded: kept
    statement = client.get(reverse("handvest_records:statement", args=[destruction_list.pk]))
    assert statement.status_code == 200 and statement["Content-Type"] == "application/pdf"
    assert b"".join(statement.streaming_content).startswith(b"%PDF")


def test_an_exclusion_without_a_reason_is_refused_on_the_page(client, world):
    response = as_user(client, world, "archivist").post(
        reverse("handvest_records:item_action", args=[world["item"].pk, "uitzonderen"]), {"reason": ""}, follow=True
    )
    assert "Vermeld waarom" in response.content.decode()
    world["item"].refresh_from_db()
    assert world["item"].state == "proposed"


def test_the_officer_records_the_ombudsman_on_the_cases_archive_page(client, world):
    client = as_user(client, world, "officer")
    case_page = client.get(reverse("handvest_workspace:case", args=[world["case"].pk])).content.decode()
    assert reverse("handvest_records:case", args=[world["case"].pk]) in case_page  # reached from the case page
    page = client.get(reverse("handvest_records:case", args=[world["case"].pk])).content.decode()
    assert "Klacht afgehandeld" in page and "Nationale ombudsman" in page
    response = client.post(
        reverse("handvest_records:case_action", args=[world["case"].pk, "ombudsman"]),
        {"on": timezone.localdate().isoformat(), "note": "dossier 2031/7"},
        follow=True,
    )
    assert "Nationale ombudsman" in response.content.decode()
    record = CaseRecord.objects.get(case=world["case"])
    assert (record.hold, record.term_years) == (RecordHold.OMBUDSMAN, 10)


def test_the_officer_searches_exports_and_sees_why_an_erasure_is_refused(client, world):
    open_case = CaseFactory(acknowledged=True, name=NAME, email=EMAIL, text="Nog een klacht")
    client = as_user(client, world, "officer")
    searched = client.post(reverse("handvest_privacy:search"), {"email": EMAIL.upper()})
    assert searched.status_code == 302 and searched["Location"] == reverse("handvest_privacy:search")  # no address in a URL
    page = client.get(searched["Location"]).content.decode()
    assert world["case"].registration.number in page and open_case.registration.number in page
    chosen = {"email": EMAIL, "registrations": [world["case"].registration_id, open_case.registration_id]}
    export = client.post(reverse("handvest_privacy:export"), {**chosen, "inzage-reason": "brief van 1 mei"})
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"
    assert {"inzage.json", "inzage.pdf"} <= set(zipfile.ZipFile(io.BytesIO(export.content)).namelist())
    response = client.post(reverse("handvest_privacy:erase"), {**chosen, "wissen-reason": "verzoek per brief", "wissen-confirm": "on"}, follow=True)
    text = response.content.decode()
    assert f"Gewist: {world['case'].registration.number}" in text
    assert open_case.registration.number in text and "nog in behandeling" in text
    assert Registration.objects.get(pk=open_case.registration_id).sender_name == NAME
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == ""


def test_an_erasure_without_the_confirmation_erases_nothing(client, world):
    response = as_user(client, world, "officer").post(
        reverse("handvest_privacy:erase"), {"email": EMAIL, "registrations": [world["case"].registration_id], "wissen-reason": "verzoek"}, follow=True
    )
    assert "Vink aan" in response.content.decode()
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == NAME


def test_only_the_archivist_sees_the_archive_menu_and_only_officers_the_privacy_menu(client, world):
    archivist_home = as_user(client, world, "archivist").get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("handvest_records:lists") in archivist_home and reverse("handvest_privacy:search") not in archivist_home
    client.logout()
    officer_home = as_user(client, world, "officer").get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("handvest_records:lists") not in officer_home and reverse("handvest_privacy:search") in officer_home


def test_the_archivist_edits_the_retention_table_and_others_may_not(client, world):
    url = reverse("wagtailsnippets_cases_resulttype:list")
    page = as_user(client, world, "archivist").get(url)
    assert page.status_code == 200 and "Klacht afgehandeld via de Nationale ombudsman" in page.content.decode()
    client.logout()
    for role in ("editor", "officer", "mailroom"):
        assert as_user(client, world, role).get(url).status_code in (302, 403)  # Wagtail sends them back to the dashboard


def test_a_result_type_given_to_cases_cannot_be_deleted(client, world):
    handled = ResultType.objects.get(code="complaint_handled")
    response = as_user(client, world, "archivist").post(reverse("wagtailsnippets_cases_resulttype:delete", args=[handled.pk]), follow=True)
    assert "kan niet verwijderd worden" in response.content.decode()
    assert ResultType.objects.filter(pk=handled.pk).exists()


def result_type_form(row: ResultType, **changes) -> dict:
    data = {field: getattr(row, field) for field in ("name", "kind", "procestype", "selectielijst_item", "verdict", "note", "code", "sort_order")}
    return {**data, "term_years": row.term_years or "", **changes}


def test_the_archivist_changes_a_term_in_the_retention_table(client, world):
    handled = ResultType.objects.get(code="complaint_handled")
    response = as_user(client, world, "archivist").post(
        reverse("wagtailsnippets_cases_resulttype:edit", args=[handled.pk]), result_type_form(handled, term_years=7), follow=True
    )
    assert response.status_code == 200
    handled.refresh_from_db()
    assert (handled.term_years, handled.selectielijst_item) == (7, "13.1")
    # The cases closed before keep the term they were given at closure.
    assert CaseRecord.objects.get(case=world["case"]).term_years == 5


def test_a_row_to_destroy_without_a_term_is_refused_and_unchanged(client, world):
    handled = ResultType.objects.get(code="complaint_handled")
    response = as_user(client, world, "archivist").post(
        reverse("wagtailsnippets_cases_resulttype:edit", args=[handled.pk]), result_type_form(handled, term_years="", name="Zonder termijn")
    )
    assert "Vul een bewaartermijn in" in response.content.decode()
    handled.refresh_from_db()
    assert (handled.name, handled.term_years) == ("Klacht afgehandeld", 5)


def test_approving_a_list_twice_says_why_and_changes_nothing(client, world, django_capture_on_commit_callbacks):
    client = as_user(client, world, "archivist")
    url = reverse("handvest_records:list_action", args=[world["list"].pk, "goedkeuren"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    done = DestructionList.objects.get(pk=world["list"].pk)
    assert done.status == DestructionListStatus.DONE
    response = client.post(url, follow=True)
    assert "alleen een lijst die ter beoordeling ligt kan nog veranderen" in response.content.decode()
    again = DestructionList.objects.get(pk=world["list"].pk)
    assert (again.status, again.approved_at, again.statement_sha256) == (DestructionListStatus.DONE, done.approved_at, done.statement_sha256)


def test_an_exclusion_with_a_date_in_the_past_is_refused_on_the_page(client, world):
    response = as_user(client, world, "archivist").post(
        reverse("handvest_records:item_action", args=[world["item"].pk, "uitzonderen"]),
        {"reason": "nog even bewaren", "postpone_until": "2001-01-01"},
        follow=True,
    )
    assert str(destruction.POSTPONE_NOT_LATER) in response.content.decode()
    world["item"].refresh_from_db()
    assert (world["item"].state, world["item"].reason) == ("proposed", "")
    assert CaseRecord.objects.get(case=world["case"]).destroy_on == world["item"].destroy_on


def test_a_rectification_with_a_bad_e_mail_address_is_refused_on_the_page(client, world):
    response = as_user(client, world, "officer").post(
        reverse("handvest_privacy:rectify"),
        {"email": EMAIL, "registrations": [world["case"].registration_id], "verbeteren-sender_email": "geen adres", "verbeteren-reason": "typfout"},
        follow=True,
    )
    assert "Voer een geldig e-mailadres in" in response.content.decode()
    assert Registration.objects.get(pk=world["case"].registration_id).sender_email == EMAIL
    assert not DataSubjectRequest.objects.exists()


def test_a_forged_registration_id_is_ignored_not_a_500(client, world):
    response = as_user(client, world, "officer").post(
        reverse("handvest_privacy:rectify"),
        {"email": EMAIL, "registrations": ["²", "1e3"], "verbeteren-sender_address": "Zoutsloot 4", "verbeteren-reason": "verhuisd"},
        follow=True,
    )
    assert response.status_code == 200
    assert Registration.objects.get(pk=world["case"].registration_id).sender_address != "Zoutsloot 4"


def test_the_officer_rectifies_an_address_on_the_page(client, world):
    response = as_user(client, world, "officer").post(
        reverse("handvest_privacy:rectify"),
        {"email": EMAIL, "registrations": [world["case"].registration_id], "verbeteren-sender_address": "Zoutsloot 4", "verbeteren-reason": "verhuisd"},
        follow=True,
    )
    assert f"Verbeterd bij {world['case'].registration.number}" in response.content.decode()
    assert Registration.objects.get(pk=world["case"].registration_id).sender_address == "Zoutsloot 4"
    assert DataSubjectRequest.objects.get().kind == "rectification"


def test_the_archivists_permissions_can_be_given_to_any_group_in_wagtail(client, world):
    superuser = UserFactory(username="beheerder", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    group = Group.objects.get(name=ARCHIVISTS)
    page = client.get(reverse("wagtailusers_groups:edit", args=[group.pk])).content.decode()
    review = Permission.objects.get(codename="review_destruction")
    data_requests = Permission.objects.get(codename="handle_data_requests")
    for permission in (review, data_requests):
        assert f'value="{permission.pk}"' in page
    assert re.search(rf'value="{review.pk}"[^>]*checked', page)
    assert not re.search(rf'value="{data_requests.pk}"[^>]*checked', page)


def test_a_destruction_that_broke_off_is_restarted_from_the_list(client, world, monkeypatch, django_capture_on_commit_callbacks):
    client = as_user(client, world, "archivist")
    real_wipe = destruction.case_wipe

    def broken(case):
        raise OSError("opslag niet bereikbaar")

    monkeypatch.setattr(destruction, "case_wipe", broken)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("handvest_records:list_action", args=[world["list"].pk, "goedkeuren"]))
    page = client.get(reverse("handvest_records:list", args=[world["list"].pk])).content.decode()
    assert "Vernietiging bezig" in page and "Opnieuw starten" in page
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == NAME
    monkeypatch.setattr(destruction, "case_wipe", real_wipe)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("handvest_records:list_action", args=[world["list"].pk, "hervatten"]), follow=True)
    assert "opnieuw gestart" in response.content.decode()
    assert DestructionList.objects.get(pk=world["list"].pk).status == DestructionListStatus.DONE
    assert Registration.objects.get(pk=world["case"].registration_id).sender_name == ""
