"""What a citizen meets on the public pages (web form, thank-you page, private page, charter page, privacy
statement), in a real browser where it matters. Found by the accessibility review of stop 31; each test
failed before its fix."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.intake import webform
from cases.models import Case
from tests.factories import CaseFactory, officer
from tests.test_browser_flow import browser  # noqa: F401 (the fixture)
from tests.test_intake_webform import valid_data as form_data

PHONE = {"width": 320, "height": 800}  # 1280 px at 400 % zoom is the same 320 CSS px (WCAG 1.4.10)
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


# --- 1. Back and send again: a second case ---------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_back_and_send_again_from_the_thank_you_page_makes_no_second_case(browser, live_server, harlingen, settings):  # noqa: F811
    """The citizen sends, lands on the thank-you page, presses Back (the browser puts the text back in the form) and
    sends again: the same words from the same sender that day are the first case, not a second one."""
    settings.BASE_URL = live_server.url
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    page = browser.new_page(viewport=PHONE, locale="nl-NL")
    page.goto(f"{live_server.url}/melding/")
    page.check("#id_kind_0")
    page.fill("#id_description", "De container in de Noorderhaven is al twee weken niet geleegd.")
    page.fill("#id_name", "Jan Hoekstra")
    page.fill("#id_email", "jan@example.nl")
    page.click("button[type=submit]")
    page.wait_for_selector(".reference")
    first = page.inner_text(".reference").strip()
    page.go_back()
    page.wait_for_load_state()
    assert page.input_value("#id_description").startswith("De container"), "the browser restored what was typed"
    page.click("button[type=submit]")
    page.wait_for_selector(".reference")
    assert Case.objects.count() == 1, f"a second case was registered: {first} and {page.inner_text('.reference').strip()}"


# --- 2. A refused (too large) request loses everything typed -------------------------------------------
@pytest.mark.django_db
def test_a_body_refused_as_too_large_keeps_what_the_citizen_typed(client, municipality, monkeypatch):
    """Files together over the request limit: the page says so and comes back with what the citizen typed."""
    monkeypatch.setattr(webform, "MAX_REQUEST_BYTES", 4000)  # the real limit is 100 MB; the behaviour at it is the same
    story = "Op 12 november stond ik een uur in de regen bij het loket. Niemand hielp mij."
    data = form_data(description=story, name="Jan Hoekstra", attachments=[SimpleUploadedFile("foto.pdf", PDF_BYTES + b"0" * 8000)])
    response = client.post("/melding/", data)
    html = response.content.decode()
    assert response.status_code == 413
    assert story in html, "the description typed by the citizen is not in the form any more"
    assert 'value="Jan Hoekstra"' in html, "the name typed by the citizen is not in the form any more"


# --- 3. The error summary does not receive focus --------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_a_submit_with_errors_the_error_summary_has_the_focus(browser, live_server, harlingen, settings):  # noqa: F811
    """After a submit with errors, keyboard and screen-reader users land on the summary that lists what to correct,
    not at the top of the page (WCAG 3.3.1, 2.4.3)."""
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    page = browser.new_page(viewport=PHONE, locale="nl-NL")
    page.goto(f"{live_server.url}/melding/")
    page.fill("#id_description", "Mijn verhaal.")
    page.focus("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#fouten")
    assert page.evaluate("() => document.activeElement.id") == "fouten"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#id_kind_0"


# --- 4. Reflow: our question with a web address on the private page --------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_private_page_has_no_sideways_scrolling_when_our_question_holds_a_web_address(browser, live_server, harlingen, settings):  # noqa: F811
    """At 320 px (400 % zoom) a question with a long web address wraps instead of running off the screen (WCAG 1.4.10)."""
    from cases.conversation.questions import question_ask

    settings.BASE_URL = live_server.url
    case = CaseFactory(in_treatment=True, name="Sietske de Vries", email="sietske@example.nl")
    question_ask(case_id=case.pk, text="Kijkt u op https://www.harlingen.nl/afvalkalender-wijk-noord-2026 welke dag het was?", actor=officer())
    page = browser.new_page(viewport=PHONE, locale="nl-NL")
    page.goto(f"{live_server.url}{reverse('cases:case_status', kwargs={'token': case.public_token})}")
    page.wait_for_selector("#wacht-op-u")
    assert scroll_width(page) <= PHONE["width"], f"page is {scroll_width(page)} px wide in a {PHONE['width']} px window"


# --- 5. Reflow: the thank-you page with a long e-mail address --------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_thank_you_page_has_no_sideways_scrolling_with_a_long_email_address(browser, live_server, harlingen, settings):  # noqa: F811
    """A long e-mail address on the thank-you page wraps at 320 px (WCAG 1.4.10)."""
    settings.BASE_URL = live_server.url
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    page = browser.new_page(viewport=PHONE, locale="nl-NL")
    page.goto(f"{live_server.url}/melding/")
    page.check("#id_kind_0")
    page.fill("#id_description", "De stoep voor mijn huis is al maanden kapot.")
    page.fill("#id_name", "Jan van der Berg")
    page.fill("#id_email", "j.h.vanderberg.harlingen@hotmail.com")
    page.click("button[type=submit]")
    page.wait_for_selector(".reference")
    assert scroll_width(page) <= PHONE["width"], f"page is {scroll_width(page)} px wide in a {PHONE['width']} px window"


# --- 6. Error summaries on the private page's consent and satisfaction pages do not link to the field ------
def _summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    return re.findall(r'<a href="#([^"]+)"', summary)


@pytest.mark.django_db
def test_the_satisfaction_error_summary_links_to_the_question(client, gemeente):
    from cases.conversation.satisfaction import survey_ask

    case = CaseFactory(closed=True)
    survey_ask(case_id=case.pk)
    response = client.post(reverse("cases:satisfaction_reply", kwargs={"token": case.public_token}), {"reason": "Het duurde lang."})
    html = response.content.decode()
    assert response.status_code == 400
    links = _summary_links(html)
    assert links and all(f'id="{anchor}"' in html for anchor in links), "the summary's error is plain text, no link to the score"


@pytest.mark.django_db
def test_the_consent_error_summary_links_to_the_question(client, gemeente):
    from cases.conversation.consent import consent_request
    from cases.correspondence.steps import case_extend_with_notice

    case = CaseFactory(in_treatment=True)
    case_extend_with_notice(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(weeks=2), reason="Drukte", actor=officer())
    case.refresh_from_db()
    consent = consent_request(case_id=case.pk, proposed_due=case.effective_answer_due + datetime.timedelta(days=21), reason="Ziekte", actor=officer())
    response = client.post(reverse("cases:consent_reply", kwargs={"token": case.public_token, "pk": consent.pk}), {"note": ""})
    html = response.content.decode()
    assert response.status_code == 400
    links = _summary_links(html)
    assert links and all(f'id="{anchor}"' in html for anchor in links), "the summary's error is plain text, no link to the choice"


# --- 7. The privacy statement --------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_web_form_links_to_a_privacy_statement_that_exists(client, harlingen):
    """The form asks name, e-mail, address and phone; it links to a privacy statement that exists (AVG art. 13)."""
    html = client.get("/melding/").content.decode()
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]*privacy[^<]*)</a>', html, re.I)
    assert links, "no link to a privacy statement on the form"
    assert client.get(links[0][0]).status_code == 200


# --- 8. maxlength in the browser and on the server disagree about line breaks -----------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_description_the_browser_accepts_is_not_refused_as_too_long(browser, live_server, harlingen, settings):  # noqa: F811
    """The textarea's maxlength counts a line break as 1 character and the browser sends CR LF: the server counts it
    as one too, so a long complaint in paragraphs that fits the box is accepted."""
    settings.BASE_URL = live_server.url
    settings.HANDVEST_FORM_RATE_LIMIT = 0
    paragraph = ("Ik heb de gemeente vaak gebeld over de container, maar niemand belde mij terug. " * 5).strip()
    text = ""
    while len(text) + len(paragraph) + 2 <= webform.DESCRIPTION_MAX_LENGTH:
        text += paragraph + "\n\n"
    text += "Groet, " + "x" * (webform.DESCRIPTION_MAX_LENGTH - len(text) - len("Groet, "))  # exactly the limit, as the box counts
    assert len(text) == webform.DESCRIPTION_MAX_LENGTH
    page = browser.new_page(viewport={"width": 1000, "height": 900}, locale="nl-NL")
    page.goto(f"{live_server.url}/melding/")
    page.check("#id_kind_0")
    page.fill("#id_description", text)
    assert page.evaluate("() => { const t = document.getElementById('id_description'); return t.value.length <= t.maxLength && !t.validity.tooLong; }")
    page.fill("#id_name", "Jan Hoekstra")
    page.fill("#id_email", "jan@example.nl")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".reference").count() == 1, page.locator(".error-summary").inner_text() if page.locator(".error-summary").count() else page.url


# --- 9. An empty attachment: which one? -----------------------------------------------------------------
@pytest.mark.django_db
def test_an_empty_attachment_is_named_in_the_error(client, municipality):
    """Three photos, one of them empty (a cloud placeholder): the error names the empty file."""
    files = [SimpleUploadedFile("voor.pdf", PDF_BYTES), SimpleUploadedFile("na.pdf", b""), SimpleUploadedFile("brief.pdf", PDF_BYTES)]
    html = client.post("/melding/", form_data(attachments=files)).content.decode()
    assert "Het bestand &#x27;na.pdf&#x27; is leeg." in html, re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S)


# --- 10. Two regions called 'Klachten' on the charter page -----------------------------------------------
@pytest.mark.django_db
def test_the_charter_page_has_no_two_regions_with_the_same_name(client, harlingen):
    """A screen reader's list of regions has no name twice (axe: landmark-unique), though a channel and the callout
    are both about complaints."""
    html = client.get("/kwaliteitshandvest/").content.decode()
    names = []
    for heading_id in re.findall(r'<section[^>]*aria-labelledby="([^"]+)"', html):
        heading = re.search(rf'id="{re.escape(heading_id)}"[^>]*>(.*?)</h', html, re.S).group(1)
        names.append(re.sub(r"<[^>]+>", "", heading).strip())
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
