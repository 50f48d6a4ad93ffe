"""The staff pages' markup: every page names itself in its first heading, an irreversible step asks
first, and after a refused form the focus goes to the first error (a browser test)."""

import re

import pytest
from django.conf import settings as dj_settings
from django.test import Client
from django.urls import reverse

from cases.permissions import ARCHIVISTS
from cases.records import destruction
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.records import close_years_ago


def _header_h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)  # the first heading of the page
    assert match, "no heading on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def old_case_on_a_list(gemeente):
    case = CaseFactory(closed=True)
    close_years_ago(case, 6)
    archivist = UserFactory(username="archivaris", role=ARCHIVISTS)
    return case, archivist, destruction.destruction_list_create(actor=archivist)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("archivist", lambda case, dl: reverse("handvest_records:lists")),
        ("archivist", lambda case, dl: reverse("handvest_records:list", args=[dl.pk])),
        ("officer", lambda case, dl: reverse("handvest_records:case", args=[case.pk])),
        ("officer", lambda case, dl: reverse("handvest_privacy:search")),
        ("officer", lambda case, dl: reverse("handvest_measurements:overview")),
        ("editor", lambda case, dl: reverse("handvest_revision:dashboard")),
    ],
    ids=["destruction-lists", "destruction-list", "case-archive", "privacy", "metingen", "herziening"],
)
def test_the_pages_first_heading_is_not_empty(client, old_case_on_a_list, role, url):
    # A screen-reader user lists the headings and starts at the first <h1>. On the inbox, triage and
    # case pages it is the page's name (the view passes breadcrumbs_items). On the archive, privacy,
    # Metingen and Herziening pages the views pass header_title but no breadcrumbs, so Wagtail's header
    # renders <h1 id="header-title"> with only an icon: an empty first heading (axe: empty-heading).
    # Expected: the page's name in that heading (or no second, empty h1).
    # Views: cases/workspace/records.py, privacy.py, measurements.py, revision.py (no breadcrumbs_items).
    case, archivist, dl = old_case_on_a_list
    user = {"archivist": archivist, "officer": officer("kwaliteit"), "editor": UserFactory(username="redacteur", role=EDITORS)}[role]
    client.force_login(user)
    response = client.get(url(case, dl))
    assert response.status_code == 200
    assert _header_h1(response.content.decode()), "the page's first <h1> is empty"


@pytest.mark.django_db
def test_approving_a_destruction_list_asks_for_confirmation_first(client, old_case_on_a_list):
    # "Goedkeuren en vernietigen" destroys the personal data of every case on the list; the page itself
    # says "Dat kan niet ongedaan worden". Expected: like closing a case (data-confirm, static/js/workspace.js),
    # a confirmation before it goes. Happens: one click (or a slip of the Enter key) approves and the
    # Celery task starts destroying (templates/cases/admin/records/list_detail.html: the form has no data-confirm).
    case, archivist, dl = old_case_on_a_list
    client.force_login(archivist)
    html = client.get(reverse("handvest_records:list", args=[dl.pk])).content.decode()
    action = reverse("handvest_records:list_action", args=[dl.pk, "goedkeuren"])
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>', html)
    assert form, "approve form not found"
    assert "data-confirm" in form.group(0), form.group(0)


# --- in Chromium: where the focus goes after a refused form -------------------------------------
from tests.test_browser_flow import browser  # noqa: E402,F401  (the fixture)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_a_refused_intake_the_focus_goes_to_the_first_error(browser, live_server, harlingen):  # noqa: F811
    # At the counter the officer presses "Registreren" too soon. The page reloads with errors, but the
    # focus is on <body> at the top of the page: a keyboard or screen-reader user does not learn that
    # the form was refused, nor where (no role=alert summary, no focus move). Expected: the focus on
    # an error summary or the first field in error (templates/cases/admin/workspace/oral.html).
    user = officer("a.zijlstra")
    c = Client()
    c.force_login(user)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
    context.add_cookies([{"name": dj_settings.SESSION_COOKIE_NAME, "value": c.cookies[dj_settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/beheer/zaken/nieuw/")
    page.fill("#id_sender_name", "Jan Hoekstra")
    page.locator("main button[type=submit]").focus()
    # keyboard.press does not wait for the navigation it starts (page.click does): without this the
    # assertion could read the page before the form was posted.
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert "verplicht" in page.inner_text("main").lower()
    focused = page.evaluate(
        "() => { const e = document.activeElement; return e ? [e.tagName, e.id, e.getAttribute('role') || '', e.getAttribute('aria-invalid') || ''] : null; }"
    )
    assert focused and (focused[0] != "BODY"), f"focus after the refused form: {focused}"
    assert focused[1].startswith("id_channel") or focused[2] == "alert" or focused[3] == "true", focused
