"""The editor's panel and revision dashboard in Wagtail: counts only, registered from cases by hooks."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from cases.models import PublicFigures
from cms.models import Charter, CharterPage, ServiceNorm
from cms.roles import EDITORS, MAILROOM, QUALITY_OFFICERS
from cms.versions import charter_start_version, pending_versions
from tests.factories import UserFactory
from tests.test_aggregates_data import D, build_case, build_norm_cases, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SECRET_TEXT = "Mijn buurman Jan Klaassen van de Voorstraat 12 werd onbeschoft behandeld"
SECRET_EMAIL = "geheim.adres@voorbeeld.invalid"


@pytest.fixture
def editor(db):
    return UserFactory(username="redacteur", role=EDITORS)


def _norm_cases():
    cases = build_norm_cases()
    personal = build_case(received_on=D(2025, 1, 20), text=SECRET_TEXT, email=SECRET_EMAIL, tags={"TEL-25SEC": "confirmed"})
    from cases.reporting.rollup import rollup_refresh

    rollup_refresh()
    cases["personal"] = personal
    return cases


@pytest.fixture
def norm_cases(norms):
    """Cases with norm tags over plain norm rows (fast)."""
    return _norm_cases()


@pytest.fixture
def site_cases(harlingen):
    """The same cases on the real charter, with its public page."""
    return _norm_cases()


def personal_data(cases) -> list[str]:
    found = []
    for case in cases.values():
        registration = case.registration
        found += [registration.sender_name, registration.sender_email, registration.number, registration.text[:40]]
    return [value for value in found if value]


def assert_no_personal_data(html: str, cases) -> None:
    for value in personal_data(cases) + [SECRET_TEXT[:30], SECRET_EMAIL, "Klaassen", "Klacht over de wachttijd"]:
        assert value not in html, f"personal data in the editor's view: {value!r}"


# --- cms stays free of cases ------------------------------------------------------------------------------


def test_cms_imports_nothing_of_cases():
    offenders = []
    for source in sorted((ROOT / "cms").rglob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offenders += [f"{source}: import {alias.name}" for alias in node.names if alias.name.split(".")[0] == "cases"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "cases":
                offenders.append(f"{source}: from {node.module}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.split(".")[0] == "cases" and node.value != "cases":
                offenders.append(f"{source}: string {node.value!r}")
    assert offenders == []


def test_cms_templates_name_no_cases_template_or_url():
    for template in (ROOT / "templates" / "cms").rglob("*.html"):
        text = template.read_text()
        assert "cases/" not in text and "handvest_revision" not in text, template


# --- roles ------------------------------------------------------------------------------------------------


def test_an_editor_reaches_the_dashboard_and_a_norms_figures(client, editor, norm_cases):
    client.force_login(editor)
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    assert client.get(reverse("handvest_revision:dashboard")).status_code == 200
    assert client.get(reverse("handvest_revision:norm", args=[norm.pk])).status_code == 200
    assert client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).status_code == 200


def test_a_quality_officer_reaches_the_dashboard_too(client, norm_cases):
    client.force_login(UserFactory(username="kwaliteit2", role=QUALITY_OFFICERS))
    assert client.get(reverse("handvest_revision:dashboard")).status_code == 200


def test_the_mailroom_gets_a_403(client, norms):
    client.force_login(UserFactory(username="post", role=MAILROOM))
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    urls = [
        reverse("handvest_revision:dashboard"),
        reverse("handvest_revision:norm_panel", args=[norm.pk]),
        reverse("handvest_revision:report", args=[2025, "csv"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403


def test_a_user_without_admin_access_is_sent_to_the_login(client, db):
    client.force_login(UserFactory(username="inwoner"))
    response = client.get(reverse("handvest_revision:dashboard"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_anonymous_visitor_is_sent_to_the_login(client, db):
    response = client.get(reverse("handvest_revision:dashboard"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_menu_shows_herziening_to_editors_only(client, editor, norms):
    client.force_login(editor)
    assert reverse("handvest_revision:dashboard") in client.get("/beheer/").content.decode()
    client.force_login(UserFactory(username="post", role=MAILROOM))
    assert reverse("handvest_revision:dashboard") not in client.get("/beheer/").content.decode()


# --- the panel in the norm's editor -------------------------------------------------------------------------------


def test_the_norms_editor_links_to_and_loads_the_figures_panel(client, editor, norm_cases):
    client.force_login(editor)
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    html = client.get(reverse("wagtailsnippets_cms_servicenorm:edit", args=[norm.pk])).content.decode()
    assert reverse("handvest_revision:norm", args=[norm.pk]) in html  # the action-menu item
    assert "Cijfers van deze norm" in html
    assert "handvest-norm-figures" in html and reverse("handvest_revision:norm_panel", args=[0]) in html  # the panel script


def test_the_list_of_norms_has_a_figures_button(client, editor, norms):
    client.force_login(editor)
    html = client.get(reverse("wagtailsnippets_cms_servicenorm:list")).content.decode()
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    assert reverse("handvest_revision:norm", args=[norm.pk]) in html


def test_the_panel_shows_the_norms_counts_per_period_with_suppression(client, editor, norm_cases, monkeypatch):
    monkeypatch.setattr("cases.workspace.revision.timezone.localdate", lambda: D(2025, 6, 15))
    client.force_login(editor)
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    html = client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode()
    assert "<svg" in html
    def row(period):
        rest = html[html.index(f'data-period="{period}"') :]
        return rest[: rest.index("</tr>")]

    assert "<td>&lt;3</td>" in row("2025-02")
    assert "<td>7</td>" in row("2025-Q1")
    # January has 5 (4 + the case with personal data), but shown beside the quarter's 7 and March's 0 it
    # would give February's 2 away: it is hidden too (secondary suppression), and so is February's trend.
    assert "<td>×</td>" in row("2025-01") and "<td>5</td>" not in row("2025-01")
    assert "niet te tonen" in row("2025-02")


def test_no_personal_data_in_the_panel_or_the_dashboard(client, editor, norm_cases):
    client.force_login(editor)
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    pages = [
        client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode(),
        client.get(reverse("handvest_revision:norm", args=[norm.pk])).content.decode(),
        client.get(reverse("handvest_revision:dashboard") + "?periode=2025").content.decode(),
        client.get(reverse("handvest_revision:dashboard") + "?periode=2025-Q1").content.decode(),
    ]
    for html in pages:
        assert_no_personal_data(html, norm_cases)


def test_the_dashboard_lists_every_norm_with_its_figures(client, editor, norm_cases):
    client.force_login(editor)
    html = client.get(reverse("handvest_revision:dashboard") + "?periode=2025").content.decode()
    assert html.count('<tr data-code="') == 29
    row = html[html.index('<tr data-code="TEL-25SEC"') :]
    row = row[: row.index("</tr>")]
    assert "<td>7</td>" in row and "▲ +4" in row  # 7 in 2025 against 3 in 2024
    assert "Meeste klachten" in html


@pytest.mark.parametrize("period", ["2025-Q9", "0001", "9999-12"])
def test_a_bad_period_falls_back_to_this_year_with_a_message(client, editor, norms, period):
    client.force_login(editor)
    response = client.get(reverse("handvest_revision:dashboard") + f"?periode={period}", follow=True)
    assert response.status_code == 200
    assert "Onbekende periode" in response.content.decode()


def test_a_missing_norm_is_a_404(client, editor, norms):
    client.force_login(editor)
    assert client.get(reverse("handvest_revision:norm_panel", args=[999999])).status_code == 404


# --- report download ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv; charset=utf-8"), ("json", "application/json")])
def test_an_editor_downloads_the_annual_report(client, editor, norm_cases, fmt, content_type):
    client.force_login(editor)
    response = client.get(reverse("handvest_revision:report", args=[2025, fmt]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert f"klachtenrapportage-2025.{fmt}" in response["Content-Disposition"]
    assert_no_personal_data(response.content.decode(), norm_cases)


def test_a_report_for_a_future_year_is_refused_with_a_message(client, editor, norms):
    client.force_login(editor)
    response = client.get(reverse("handvest_revision:report", args=[2999, "csv"]), follow=True)
    assert "is nog niet begonnen" in response.content.decode()


# --- public figures on the charter page --------------------------------------------------------------------


def test_last_years_figures_appear_on_the_charter_page_only_when_editors_opt_in(client, editor, site_cases, monkeypatch):
    monkeypatch.setattr("cases.public.charter_figures.timezone.localdate", lambda: D(2026, 3, 1))
    html = client.get("/kwaliteitshandvest/").content.decode()
    assert "norm-figures" not in html
    client.force_login(editor)
    client.post(reverse("handvest_revision:public_figures"), {"show_on_charter": "on"})
    assert PublicFigures.load().show_on_charter
    client.logout()
    html = client.get("/kwaliteitshandvest/").content.decode()
    item = html[html.index('data-code="TEL-25SEC"') :]
    assert "in 2025: 7 klachten, 0 suggesties" in item[: item.index("</li>")]
    item = html[html.index('data-code="WEB-INFORMATIE"') :]
    assert "in 2025: &lt;3 klachten" in item[: item.index("</li>")]  # plural even for a suppressed one
    assert html.count('data-code="') == 29
    assert_no_personal_data(html, site_cases)


def test_editors_can_turn_the_public_figures_off_again(client, editor, site_cases):
    client.force_login(editor)
    client.post(reverse("handvest_revision:public_figures"), {"show_on_charter": "on"})
    client.post(reverse("handvest_revision:public_figures"), {})
    assert not PublicFigures.load().show_on_charter
    assert "norm-figures" not in client.get("/kwaliteitshandvest/").content.decode()


def test_an_officer_cannot_change_the_public_figures(client, norms):
    client.force_login(UserFactory(username="kwaliteit2", role=QUALITY_OFFICERS))
    assert client.post(reverse("handvest_revision:public_figures"), {"show_on_charter": "on"}).status_code == 403
    assert not PublicFigures.load().show_on_charter


# --- a new charter version ----------------------------------------------------------------------------------


def test_starting_a_version_copies_the_norms_as_drafts_without_changing_the_site(client, editor, harlingen):
    client.force_login(editor)
    response = client.post(reverse("handvest_revision:start_version"), {"year": 2027, "title": "Kwaliteitshandvest Gemeente Harlingen 2027"}, follow=True)
    assert "29 normen staan als concept klaar" in response.content.decode()
    new = Charter.objects.get(key="harlingen-2027")
    assert ServiceNorm.objects.filter(charter__key="harlingen-2017", live=True).count() == 29
    assert all(norm.latest_revision.content["charter"] == new.pk for norm in ServiceNorm.objects.all())
    assert ServiceNorm.objects.filter(has_unpublished_changes=True).count() == 29
    assert client.get("/kwaliteitshandvest/").content.decode().count('data-code="') == 29
    assert [pending.charter for pending in pending_versions()] == [new]


def test_a_pending_draft_of_a_norm_is_kept_in_the_new_version(editor, harlingen):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    norm.promise = "Nieuwe belofte in concept"
    norm.save_revision(user=editor)
    charter_start_version(source=Charter.objects.get(key="harlingen-2017"), year=2027, title="Handvest 2027", actor=editor)
    draft = ServiceNorm.objects.get(code="TEL-GROET").get_latest_revision_as_object()
    assert draft.promise == "Nieuwe belofte in concept"
    assert draft.charter.key == "harlingen-2027"


def test_publish_all_publishes_the_norms_and_moves_the_charter_page(client, editor, harlingen):
    client.force_login(editor)
    client.post(reverse("handvest_revision:start_version"), {"year": 2027, "title": "Kwaliteitshandvest 2027"})
    new = Charter.objects.get(key="harlingen-2027")
    response = client.post(reverse("handvest_revision:publish_version", args=[new.pk]), follow=True)
    assert "29 normen van" in response.content.decode()
    assert ServiceNorm.objects.filter(charter=new, live=True, has_unpublished_changes=False).count() == 29
    page = CharterPage.objects.live().get()
    assert page.charter == new and page.title == "Kwaliteitshandvest 2027"
    html = client.get("/kwaliteitshandvest/").content.decode()
    assert html.count('data-code="') == 29 and "Kwaliteitshandvest 2027" in html
    assert pending_versions() == []


def test_a_second_version_cannot_start_while_one_is_pending(client, editor, harlingen):
    client.force_login(editor)
    client.post(reverse("handvest_revision:start_version"), {"year": 2027, "title": "Handvest 2027"})
    response = client.post(reverse("handvest_revision:start_version"), {"year": 2028, "title": "Handvest 2028"}, follow=True)
    assert "Er staat al een nieuwe versie in concept klaar" in response.content.decode()
    assert not Charter.objects.filter(key="harlingen-2028").exists()


def test_a_version_must_be_later_than_the_current_one(client, editor, harlingen):
    client.force_login(editor)
    response = client.post(reverse("handvest_revision:start_version"), {"year": 2017, "title": "Handvest"}, follow=True)
    assert "moet na 2017 liggen" in response.content.decode()
    assert Charter.objects.count() == 1
    assert ServiceNorm.objects.filter(has_unpublished_changes=True).count() == 0


def test_an_incomplete_version_form_changes_nothing(client, editor, harlingen):
    client.force_login(editor)
    response = client.post(reverse("handvest_revision:start_version"), {"year": "", "title": ""}, follow=True)
    assert "Vul het jaar en de titel" in response.content.decode()
    assert Charter.objects.count() == 1


def test_an_officer_cannot_start_or_publish_a_version(client, harlingen, editor):
    officer = UserFactory(username="kwaliteit2", role=QUALITY_OFFICERS)
    client.force_login(officer)
    response = client.post(reverse("handvest_revision:start_version"), {"year": 2027, "title": "Handvest 2027"}, follow=True)
    assert "U mag geen nieuwe versie" in response.content.decode()
    assert Charter.objects.count() == 1
    charter_start_version(source=Charter.objects.get(), year=2027, title="Handvest 2027", actor=editor)
    new = Charter.objects.get(key="harlingen-2027")
    client.post(reverse("handvest_revision:publish_version", args=[new.pk]))
    assert ServiceNorm.objects.filter(charter=new).count() == 0


def test_publishing_a_version_without_drafts_is_refused(client, editor, harlingen):
    client.force_login(editor)
    old = Charter.objects.get()
    response = client.post(reverse("handvest_revision:publish_version", args=[old.pk]), follow=True)
    assert "Er zijn geen concepten" in response.content.decode()
