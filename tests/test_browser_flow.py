"""The main flow in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

A citizen files a complaint on the web form; an officer logs in, finds it in the inbox with a
suggested norm, confirms the norm, sends the acknowledgement, starts the treatment, gives an
explanation, records why there is no hearing, answers and closes; the citizen's private link
then shows the case closed. Each step is saved as a screenshot in ``docs/screenshots/``.

Chromium comes from Debian (``make system-deps`` installs it); Playwright never downloads a
browser of its own here. Without Chromium the test is skipped and says why.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core import mail

from cases.correspondence.outbox import PLACEHOLDER_RE
from cases.models import Case, CaseState, OutgoingMessage
from cases.tagging import tags_store_suggestions
from tests.factories import officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = os.environ.get("HANDVEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# `make screenshots` saves them in docs/screenshots; an ordinary test run leaves the docs alone.
SCREENSHOTS = Path(os.environ.get("HANDVEST_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "handvest-screenshots")
PASSWORD = "geheim-wachtwoord-123"
COMPLAINT = "Ik heb vorige week drie keer gebeld naar het gemeentehuis. Niemand nam op, ik moest steeds lang wachten en toen werd de verbinding verbroken."


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium under Playwright, or a skip that says what is missing."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -r requirements.lock)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (make system-deps does it)")
    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as exc:
        manager.stop()
        pytest.skip(f"Chromium at {CHROMIUM} could not be launched: {str(exc).splitlines()[0]}")
    yield instance
    instance.close()
    manager.stop()


class Steps:
    """A page plus the habit of saving a screenshot after each step, numbered in order."""

    def __init__(self, page, prefix: str):
        self.page = page
        self.prefix = prefix
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        """The whole page from the top: Wagtail's admin scrolls inside its frame, so the window grows to fit first."""
        self.count += 1
        size = self.page.viewport_size
        height = self.page.evaluate(
            "() => { for (const e of document.querySelectorAll('main, .content-wrapper')) { e.scrollTop = 0; } window.scrollTo(0, 0);"
            " return Math.max(document.documentElement.scrollHeight, ...Array.from(document.querySelectorAll('main')).map(e => e.scrollHeight)); }"
        )
        self.page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 5000)})
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"), full_page=True)
        self.page.set_viewport_size(size)


def fill_placeholders(page) -> None:
    """Fill every [[ place to fill ]] of the letter in the composer, as the officer would."""
    body = page.locator("#id_body_text")
    text = body.input_value()
    assert "[[" in text, "the template leaves the findings to the officer"
    body.fill(PLACEHOLDER_RE.sub("Wij hebben met de afdeling Publiekszaken gesproken; de telefoon wordt voortaan binnen 25 seconden opgenomen.", text))


def test_a_complaint_from_the_web_form_is_handled_and_closed_in_the_workspace(browser, live_server, harlingen, settings):
    settings.BASE_URL = live_server.url
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    handler = officer("a.zijlstra")
    handler.first_name, handler.last_name = "Anneke", "Zijlstra"
    handler.set_password(PASSWORD)
    handler.save()

    # --- the citizen files a complaint ---------------------------------------------------------------
    citizen = Steps(browser.new_page(viewport={"width": 1000, "height": 900}, locale="nl-NL"), "flow")
    page = citizen.page
    page.goto(f"{live_server.url}/melding/")
    page.check("#id_kind_0")
    page.fill("#id_description", COMPLAINT)
    page.fill("#id_name", "Sietske de Vries")
    page.fill("#id_email", "sietske@example.nl")
    citizen.shot("inwoner-webformulier")
    page.click("button[type=submit]")
    page.wait_for_selector(".reference")
    number = page.inner_text(".reference").strip()
    private_path = page.get_attribute(".private-link a", "href")
    citizen.shot("inwoner-ontvangen")
    assert re.fullmatch(r"HLG-\d{4}-\d{6}", number)
    case = Case.objects.get(registration__number=number)

    # The tagger's suggestion, stored as the tagging task stores it (training the model is the tagger's own test).
    tags_store_suggestions(
        case_id=case.pk,
        scores={"TEL-25SEC": 0.86, "TEL-OPENINGSTIJDEN": 0.34},
        suggested=["TEL-25SEC", "TEL-OPENINGSTIJDEN"],
        model_version="browser-test",
        explanations={"TEL-25SEC": ["gebeld", "wachten", "nam op"], "TEL-OPENINGSTIJDEN": ["gemeentehuis"]},
    )

    # --- the officer logs in and finds it in the inbox ------------------------------------------------------
    work = Steps(browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nl-NL"), "flow")
    work.count = citizen.count
    page = work.page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/beheer/login/")
    page.fill("#id_username", "a.zijlstra")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/beheer/$"))
    page.click("nav >> text=Zaken")
    page.wait_for_url(re.compile(r".*/beheer/zaken/$"))
    row = page.locator(".hv-cases tbody tr", has_text=number)
    assert row.count() == 1 and "TEL-25SEC" in row.inner_text()
    work.shot("medewerker-inbox")
    page.fill("#id_q", number)
    page.press("#id_q", "Enter")
    page.wait_for_url(re.compile(r".*q=HLG.*"))
    assert page.locator(".hv-cases tbody tr").count() == 1
    page.click(f"text={number}")
    page.wait_for_selector("#normen")
    assert "score 86%" in page.inner_text("#normen")
    work.shot("medewerker-zaak")

    # --- confirm the suggested norm ------------------------------------------------------------------
    page.locator('[data-norm="TEL-25SEC"] button', has_text="Bevestigen").click()
    page.wait_for_selector("text=Norm TEL-25SEC bevestigd.")
    assert "bevestigd door Anneke Zijlstra" in page.inner_text('[data-norm="TEL-25SEC"]')
    work.shot("medewerker-norm-bevestigd")

    # --- send the acknowledgement (the step and its letter together) --------------------------------------
    page.locator('[data-transition="acknowledge"] [data-with-letter]').click()
    page.wait_for_selector("#id_body_text")
    assert number in page.input_value("#id_subject")
    work.shot("medewerker-ontvangstbevestiging")
    page.click("button[value=send]")
    page.wait_for_url(re.compile(r".*/beheer/zaken/\d+/#brieven$"))
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert OutgoingMessage.objects.get(case=case, kind="acknowledgement").status == "sent"
    assert any(number in message.subject and message.to == ["sietske@example.nl"] for message in mail.outbox)

    # --- start the treatment -------------------------------------------------------------------------
    page.locator('[data-transition="start_treatment"] button[type=submit]').click()
    page.wait_for_selector('[data-transition="explain"]')

    # --- give the explanation in writing ---------------------------------------------------------------
    page.locator('[data-transition="explain"] [data-with-letter]').click()
    page.wait_for_selector("#id_body_text")
    fill_placeholders(page)
    page.click("button[value=preview]")
    page.wait_for_selector("#voorbeeld .hv-text")
    assert "Publiekszaken" in page.inner_text("#voorbeeld")
    work.shot("medewerker-uitleg-voorbeeld")
    page.click("button[value=send]")
    page.wait_for_url(re.compile(r".*/beheer/zaken/\d+/#brieven$"))
    case.refresh_from_db()
    assert case.state == CaseState.EXPLAINED

    # --- no hearing needed (Awb 9:10 lid 2), then the answer ---------------------------------------------------
    assert "Eerst horen" in page.inner_text("[data-blocked-steps]")  # the answer waits, and says why
    page.select_option("#id_waive_ground", "afgezien")
    page.fill("#id_waive_reason", "De klager ziet af van horen; de uitleg is telefonisch besproken.")
    page.click('[data-action="waive_hearing"] button[type=submit]')
    page.wait_for_selector("text=Vastgelegd waarom er geen hoorzitting is.")
    page.locator('[data-transition="answer"] [data-with-letter]').click()
    page.wait_for_selector("#id_body_text")
    fill_placeholders(page)
    work.shot("medewerker-antwoord")
    page.click("button[value=send]")
    page.wait_for_selector('[data-transition="close"]')
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED

    # --- close with the judgement ---------------------------------------------------------------------
    page.select_option('[data-transition="close"] select[name=outcome]', "gegrond")
    page.locator('[data-transition="close"] button[type=submit]').click()
    page.wait_for_selector("text=Er zijn nu geen stappen mogelijk.")
    case.refresh_from_db()
    assert (case.state, case.outcome) == (CaseState.CLOSED, "gegrond")
    timeline = page.inner_text("#tijdlijn")
    for title in ("Geregistreerd", "Norm bevestigd", "Ontvangst bevestigen", "Uitleg gegeven", "Antwoord versturen", "Afsluiten met oordeel"):
        assert title in timeline, title
    work.shot("medewerker-afgesloten")

    # --- the citizen's private link shows it closed ----------------------------------------------------
    page = citizen.page
    citizen.count = work.count
    page.goto(f"{live_server.url}{private_path}")
    assert "Uw zaak is afgesloten." in page.inner_text("main")
    citizen.shot("inwoner-afgesloten")
