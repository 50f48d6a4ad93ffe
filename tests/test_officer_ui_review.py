"""The quality officer's screens in the Wagtail admin as a person uses them: the case's history, the letter
composer, the inbox at 200% zoom and its search, refused conversation forms, the call-back term, and the
latest extension date.

Each test states one rule. Browser tests drive Debian's Chromium with Playwright, as tests/test_browser_flow.py
does (same ``browser`` fixture, same password login).
"""

import contextlib
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.calendar import default_calendar
from cases.correspondence.outbox import PLACEHOLDER_RE
from cases.correspondence.steps import case_extend_with_notice
from cases.intake.oral import oral_intake
from cases.models import Case, CaseState, OutgoingMessage
from cases.workflow.registration import Sender
from tests.factories import CaseFactory, officer
from tests.test_browser_flow import PASSWORD, browser  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db

INBOX = reverse("handvest_workspace:inbox")


def numbers(response) -> list[str]:
    """The registration numbers on an inbox page, in the order shown."""
    return [case.registration.number for case, _badge in response.context["rows"]]


def act(client, case, action, data, follow=False):
    return client.post(reverse("handvest_workspace:case_action", args=[case.pk, action]), data, follow=follow)


def log_in(browser, live_server, user, **context):  # noqa: F811 (the fixture)
    """A page of a fresh browser context, logged in to the admin with the user's password."""
    user.set_password(PASSWORD)
    user.save()
    page = browser.new_context(locale="nl-NL", **context).new_page()
    page.goto(f"{live_server.url}/beheer/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/beheer/$"))
    return page


# --- 1. the case's history is in Dutch ----------------------------------------------------------------
def test_the_history_page_shows_what_changed_in_dutch_not_field_names_and_none(officer_client, municipality):
    """'Geschiedenis en inzage' says in Dutch what changed: each field by its Dutch label (its verbose name),
    a state by its label ('ontvangen' → 'ontvangst bevestigd'), a handler by name, a moment in local time,
    and "—" for empty; never a model field name, a raw value or Python's "None"."""
    handler = officer("a.zijlstra")
    handler.first_name, handler.last_name = "Anneke", "Zijlstra"
    handler.save()
    officer_client.force_login(handler)
    case = CaseFactory()
    act(officer_client, case, "transition", {"name": "acknowledge", "expected_state": "received"})
    act(officer_client, case, "transition", {"name": "start_treatment", "expected_state": "acknowledged", "officer": handler.pk})
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT

    html = officer_client.get(reverse("handvest_workspace:case_history", args=[case.pk])).content.decode()
    table = html[html.index("Logboek van") :]
    details = re.sub(r"<[^>]+>", " ", table[: table.index("</table>")])
    assert "None" not in details and "in_treatment" not in details and "assigned_to" not in details, (
        "the history shows raw field names and values: " + " | ".join(line.strip() for line in details.splitlines() if "→" in line)
    )


# --- 2. after "Voorbeeld PDF" the letter can still be sent -----------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_previewing_the_pdf_the_send_button_still_sends_the_letter(browser, live_server, municipality, settings):  # noqa: F811
    """A submit that does not replace the page (into another tab, as "Voorbeeld PDF" with formtarget=_blank,
    or a download, as "Inzage downloaden") does not lock its form: "Versturen" after the PDF preview sends
    the letter."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    settings.BASE_URL = live_server.url
    handler = officer("a.zijlstra")
    case = CaseFactory(in_treatment=True, actor=handler)
    page = log_in(browser, live_server, handler, viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}{reverse('handvest_workspace:compose', args=[case.pk])}?kind=other")
    body = page.locator("#id_body_text")
    body.fill(PLACEHOLDER_RE.sub("Wij hebben uw opmerking doorgegeven aan de afdeling Publiekszaken.", body.input_value()))

    with page.context.expect_page() as preview:
        page.click("button[value=pdf]")
    preview.value.wait_for_load_state()
    preview.value.close()

    page.click("button[value=send]")
    with contextlib.suppress(PlaywrightTimeout):  # the assertion below says what happened
        page.wait_for_url(re.compile(r".*/beheer/zaken/\d+/#brieven$"), timeout=8000)
    assert OutgoingMessage.objects.filter(case=case, kind="other").exists(), (
        f"'Versturen' after 'Voorbeeld PDF' sent nothing and said nothing; the page stayed at {page.url}"
    )


# --- 3. at 200% zoom the inbox's deadlines can be reached ------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_inbox_deadline_column_can_be_read_at_200_percent_zoom(browser, live_server, municipality):  # noqa: F811
    """At 200% zoom on a 1280-pixel screen (640 CSS pixels wide, WCAG 1.4.4 / 1.4.10) each case's deadline
    in the inbox is in view or can be scrolled to: the table scrolls sideways in a box of its own."""
    handler = officer("a.zijlstra")
    overdue = CaseFactory(received_on=timezone.localdate() - datetime.timedelta(days=30), actor=handler)
    page = log_in(browser, live_server, handler, viewport={"width": 640, "height": 450}, device_scale_factor=2)
    page.goto(f"{live_server.url}{INBOX}")
    row = page.locator(".hv-cases tbody tr", has_text=overdue.registration.number)
    badge = row.locator(".hv-badge")
    assert "Te laat" in badge.inner_text()
    reachable = badge.evaluate(
        """(el) => {
            const r = el.getBoundingClientRect();
            if (r.right <= window.innerWidth) return true;
            for (let a = el.parentElement; a; a = a.parentElement) {
                const ox = getComputedStyle(a).overflowX;
                if ((ox === 'auto' || ox === 'scroll') && a.scrollWidth > a.clientWidth) return true;
            }
            return document.scrollingElement.scrollWidth > window.innerWidth && getComputedStyle(document.body).overflowX !== 'hidden';
        }"""
    )
    right = badge.evaluate("(el) => Math.round(el.getBoundingClientRect().right)")
    assert reachable, f"the 'Te laat' badge ends at x={right} in a 640-pixel window and no scrolling reaches it"


# --- 4. a refused request for consent keeps the reason -------------------------------------------------------
def test_a_refused_request_for_consent_to_wait_longer_keeps_the_reason_the_officer_typed(officer_client, gemeente, handler):
    """A request for the complainant's consent to answer later (Awb 9:11 lid 3) whose date is not after the
    extended term is refused with a Dutch message, and the form comes back with the reason the officer typed,
    as every refused form of the case page does."""
    case = CaseFactory(in_treatment=True, actor=handler)
    extended, _notice = case_extend_with_notice(
        case_id=case.pk, new_due=case.answer_due + datetime.timedelta(weeks=2), reason="Wij wachten op de afdeling.", actor=handler
    )
    reason = "De afdeling Wegen moet de camerabeelden van 12 november nog bekijken; dat kost drie weken extra."
    response = officer_client.post(
        reverse("handvest_conversation:action", args=[case.pk, "consent_request"]),
        {"expected_state": extended.state, "proposed_due": extended.extended_answer_due.isoformat(), "reason": reason},
        follow=True,
    )
    html = response.content.decode()
    assert "moet na de huidige termijn" in html  # refused, with the Dutch reason
    assert reason in html, "the reason the officer typed for the consent letter is gone after the refusal"


# --- 5. an overdue call-back is an overdue deadline ----------------------------------------------------------
def test_a_call_back_that_is_overdue_shows_in_the_inbox_as_overdue(officer_client, municipality, handler):
    """A call-back promised on the phone (TEL-TERUGBELLEN, 2 working days) and still owed is the case's next
    deadline: once its day has passed, the inbox lists the case under 'Termijn: te laat'."""
    received = default_calendar().add_working_days(timezone.localdate() - datetime.timedelta(days=14), 0)
    registration = oral_intake(
        channel="phone",
        kind="complaint",
        text="Mevrouw belde: de container in de Noorderhaven is al twee weken niet geleegd. Ze wil teruggebeld worden.",
        sender=Sender(name="Mevrouw Visser", phone="0517 123456"),
        resolved_at_once=False,
        callback_requested=True,
        received_on=received,
        actor=handler,
    )
    case = Case.objects.get(registration=registration)
    assert case.callback_due < timezone.localdate()  # the promised call-back is overdue
    response = officer_client.get(INBOX, {"deadline": "overdue"})
    assert registration.number in numbers(response), "a call-back days overdue is not among the overdue cases"


# --- 6. a whole registration number finds its case in any state -----------------------------------------------
def test_searching_a_whole_registration_number_finds_the_case_also_when_it_is_closed(officer_client, municipality, handler):
    """A whole registration number typed in the inbox's search box finds that case whatever the status filter
    (by default "Alle open zaken"): closed or merged too, and only that case."""
    closed = CaseFactory(closed=True, actor=handler)
    CaseFactory()  # an open case, so the list is not empty by accident
    response = officer_client.get(INBOX, {"q": closed.registration.number})
    assert numbers(response) == [closed.registration.number], response.content.decode().split('class="hv-count"')[1][:120]


# --- 7. the latest extension date is a working day ---------------------------------------------------------
def test_the_latest_extension_date_on_the_case_page_is_a_working_day(officer_client, municipality, handler, settings):
    """The last day the answer term can be extended to (Awb 9:11 lid 2: at most four weeks) moves past a weekend,
    holiday or closing day like every term (Atw art. 1), and the case page names the same date the extension
    allows."""
    case = CaseFactory(in_treatment=True, actor=handler)
    four_weeks = case.answer_due + datetime.timedelta(weeks=4)
    settings.HANDVEST_CLOSING_DAYS = [four_weeks.isoformat()]  # e.g. the municipality is closed that day
    allowed = default_calendar().roll_forward(four_weeks)
    html = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    hint = re.search(r"met ten hoogste vier weken: uiterlijk (\d\d-\d\d-\d{4})", html)
    assert hint is not None
    assert hint.group(1) == f"{allowed:%d-%m-%Y}", f"the page says {hint.group(1)} (a day off); the extension allows {allowed:%d-%m-%Y}"
