"""Each role's first day, end to end in Chromium, with axe-core on every page it sees.

A citizen without an e-mail address files a complaint; the mailroom prints and posts the
acknowledgement; the officer starts the treatment, explains, the complainant is not satisfied, so
there is a hearing, then the answer (a letter the mailroom posts); the editor revises the norm the
complaint concerns and sees its figures beside the fields. Everyone logs in with a password and a
second factor. Every page is checked with axe: no serious or critical violation.
Screenshots go to ``docs/screenshots/journey-*.png`` with ``make screenshots``.
"""


import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Case, CaseState, OutboxStatus, OutgoingMessage
from cases.tagging import tags_store_suggestions
from cms.roles import EDITORS, MAILROOM
from tests.factories import UserFactory, officer
from tests.test_browser_flow import PASSWORD, Steps, browser, fill_placeholders  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SERIOUS = ("serious", "critical")
STORY = (
    "Geachte heer, mevrouw, op 12 november heb ik gebeld over de vuilniscontainer die al twee weken niet is geleegd. "
    "Ik heb bijna een half uur in de wacht gestaan en toen werd er opgehangen. Ik heb geen e-mail, stuur mij een brief."
)


class Journey(Steps):
    """A role's page, with axe after every page it lands on."""

    def __init__(self, page, prefix: str):
        super().__init__(page, prefix)
        self.checked: list[str] = []

    def check(self, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe  # only the browser tests need axe

        # Wagtail's messages slide in; axe measures contrast on what is painted, so let them settle.
        self.page.wait_for_timeout(800 if self.page.locator(".messages li").count() else 0)
        results = Axe().run(self.page)
        serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
        detail = "; ".join(f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in serious)
        assert not serious, f"axe on {self.page.url}: {detail}"
        self.checked.append(self.page.url)
        self.shot(name)

    def visit(self, url: str, name: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.check(name)


def staff(username: str, role: str | None = None):
    user = officer(username) if role is None else UserFactory(username=username, role=role)
    user.set_password(PASSWORD)
    user.save()
    return user, TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def log_in(journey: Journey, base: str, user, device) -> None:
    page = journey.page
    page.goto(f"{base}/beheer/login/")
    journey.check("login")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/beheer/tweestaps/" in page.url, (page.url, page.inner_text("main")[:500])
    journey.check("tweede-stap")
    code = str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)).zfill(6)
    page.fill("#id_code", code)
    page.click("form[action$='/beheer/tweestaps/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/beheer/"), (page.url, page.content()[:1500])
    journey.check("dashboard")


def mailroom_posts_everything(journey: Journey, base: str) -> int:
    """Print and post every letter in the queue; how many there were."""
    page = journey.page
    journey.visit(f"{base}/beheer/postkamer/printen/", "printwachtrij")
    count = page.locator("input[name=letters]").count()
    while page.locator("button:has-text('Geprint')").count():
        page.locator("button:has-text('Geprint')").first.click()
        page.wait_for_load_state("networkidle")
    for box in page.locator("input[name=letters]").all():
        box.check()
    page.click("button:has-text('Aangevinkte brieven zijn gepost')")
    page.wait_for_selector("text=Vandaag gepost")
    journey.check("gepost")
    return count


def test_each_role_on_its_first_day(browser, live_server, harlingen, settings):  # noqa: F811 (the fixture)
    settings.BASE_URL = live_server.url
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    settings.HANDVEST_TWO_FACTOR_REQUIRED = True
    base = live_server.url
    mailroom_user, mailroom_device = staff("postkamer1", MAILROOM)
    handler, handler_device = staff("a.zijlstra")
    handler.first_name, handler.last_name = "Anneke", "Zijlstra"
    handler.save()
    editor, editor_device = staff("redacteur1", EDITORS)

    # --- the citizen, without e-mail: letters come by post ----------------------------------------------
    citizen = Journey(browser.new_page(viewport={"width": 1000, "height": 900}, locale="nl-NL"), "journey-1-inwoner")
    page = citizen.page
    citizen.visit(f"{base}/", "start")
    citizen.visit(f"{base}/kwaliteitshandvest/", "handvest")
    citizen.visit(f"{base}/melding/", "formulier")
    page.check("#id_kind_0")
    page.fill("#id_description", STORY)
    page.fill("#id_name", "Jan Hoekstra")
    page.fill("#id_address", "Voorstraat 12\n8861 BL Harlingen")
    page.click("button[type=submit]")
    page.wait_for_selector(".reference")
    citizen.check("ontvangen")
    number = page.inner_text(".reference").strip()
    private_url = page.get_attribute(".private-link a", "href")
    case = Case.objects.get(registration__number=number)
    assert OutgoingMessage.objects.get(case=case, kind="acknowledgement").status == OutboxStatus.TO_PRINT
    citizen.visit(f"{base}{private_url}", "eigen-pagina")
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.81}, suggested=["TEL-25SEC"], model_version="journey", explanations={})

    # --- the mailroom prints and posts the acknowledgement -----------------------------------------------
    mailroom = Journey(browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nl-NL"), "journey-2-postkamer")
    log_in(mailroom, base, mailroom_user, mailroom_device)
    mailroom.visit(f"{base}/beheer/postkamer/brief/", "brief-registreren")
    mailroom.visit(f"{base}/beheer/postkamer/quarantaine/", "quarantaine")
    assert mailroom_posts_everything(mailroom, base) == 1
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED

    # --- the officer: treatment, explanation, not satisfied, hearing, answer ------------------------------
    work = Journey(browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nl-NL"), "journey-3-medewerker")
    page = work.page
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(work, base, handler, handler_device)
    assert "1 Zaken zonder behandelaar" in page.inner_text("main")
    work.visit(f"{base}/beheer/zaken/", "inbox")
    work.visit(f"{base}/beheer/triage/", "triage")
    work.visit(f"{base}/beheer/zaken/nieuw/", "telefoon-balie")
    work.visit(f"{base}/beheer/zaken/{case.pk}/", "zaak")
    page.locator('[data-norm="TEL-25SEC"] button', has_text="Bevestigen").click()
    page.wait_for_selector("text=Norm TEL-25SEC bevestigd.")
    page.locator('[data-transition="start_treatment"] button[type=submit]').click()
    page.wait_for_selector('[data-transition="explain"]')
    page.locator('[data-transition="explain"] button', has_text="Zonder brief").click()
    page.wait_for_selector('[data-transition="schedule_hearing"]')
    work.check("uitgelegd")
    hearing = timezone.localdate().isoformat()  # held today: the answer may go (Awb 9:10)
    page.fill('[data-transition="schedule_hearing"] input[name=on]', hearing)
    page.locator('[data-transition="schedule_hearing"] button', has_text="Zonder brief").click()
    page.wait_for_selector('[data-action="hearing_report"]')  # held today; the answer waits for its report (Awb 9:10 lid 3)
    page.fill('[data-action="hearing_report"] textarea[name=report]', "Mevrouw vertelde dat zij twintig minuten in de wacht stond.")
    page.fill('[data-action="hearing_report"] input[name=complained_about]', "telefonist")
    page.locator('[data-action="hearing_report"] button[type=submit]').click()
    page.wait_for_selector('[data-transition="answer"]')
    case.refresh_from_db()
    assert case.state == CaseState.HEARING
    page.locator('[data-transition="answer"] [data-with-letter]').click()
    page.wait_for_selector("#id_body_text")
    fill_placeholders(page)
    work.check("antwoord-opstellen")
    page.click("button[value=send]")
    page.wait_for_selector('[data-transition="close"]')
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED
    work.visit(f"{base}/beheer/zaken/{case.pk}/geschiedenis/", "geschiedenis")
    assert "ingezien" in page.inner_text("main")

    # --- the mailroom posts the answer; the citizen's page offers it -------------------------------------
    assert mailroom_posts_everything(mailroom, base) == 1
    citizen.visit(f"{base}{private_url}", "antwoord-ontvangen")
    assert "Antwoord" in citizen.page.inner_text("main")

    # --- the editor revises the norm and sees its figures --------------------------------------------------
    edit = Journey(browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nl-NL"), "journey-4-redacteur")
    page = edit.page
    log_in(edit, base, editor, editor_device)
    edit.visit(f"{base}/beheer/herziening/", "herziening")
    from cms.models import ServiceNorm  # the charter is loaded by the fixture

    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    edit.visit(f"{base}/beheer/snippets/cms/servicenorm/edit/{norm.pk}/", "norm-bewerken")
    panel = page.wait_for_selector("#handvest-norm-figures", timeout=10000)
    assert "TEL-25SEC" in panel.inner_text() or "klacht" in panel.inner_text().lower()
    promise = page.locator("textarea[name=promise], input[name=promise]").first
    promise.fill(promise.input_value() + " Ook in de vakantieperiode.")
    page.locator("footer .w-dropdown__toggle").first.click()  # "Publiceren" sits in the save menu
    page.locator("button[name=action-publish]").click()
    page.wait_for_load_state("networkidle")
    edit.check("norm-gepubliceerd")
    norm.refresh_from_db()
    assert norm.promise.endswith("Ook in de vakantieperiode.")
    assert len(citizen.checked) + len(mailroom.checked) + len(work.checked) + len(edit.checked) >= 25
