"""The promised call-back (TEL-TERUGBELLEN): the officer records it on the case page.

Reached, the call-back is no longer owed: it stops being the case's next deadline (inbox, overdue filter,
deadline scan). Not reached, only a note joins the timeline and the deadline stands. A second "reached"
(a double click, a colleague) saves nothing and says so.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.calendar import default_calendar
from cases.errors import WorkflowError
from cases.intake.oral import oral_intake
from cases.models import Case, CaseEvent, callback_owed_q
from cases.workflow.deadline_scan import deadline_scan
from cases.workflow.handling import case_record_callback
from cases.workflow.registration import Sender
from tests.factories import CaseFactory
from tests.test_browser_flow import browser  # noqa: F401 (browser is a fixture)
from tests.test_browser_journeys import Journey
from tests.test_officer_ui_review import log_in

pytestmark = pytest.mark.django_db

INBOX = reverse("handvest_workspace:inbox")


def phoned_case(handler, *, days_ago: int = 14) -> Case:
    """A phone complaint with a call-back promised, received ``days_ago`` (so the call-back is overdue)."""
    received = default_calendar().add_working_days(timezone.localdate() - datetime.timedelta(days=days_ago), 0)
    registration = oral_intake(
        channel="phone",
        kind="complaint",
        text="Meneer belde: de stoep in de Voorstraat ligt al weken open. Hij wil teruggebeld worden.",
        sender=Sender(name="Meneer De Boer", phone="0517 654321"),
        resolved_at_once=False,
        callback_requested=True,
        received_on=received,
        actor=handler,
    )
    return Case.objects.get(registration=registration)


def act(client, case, data):
    return client.post(reverse("handvest_workspace:case_action", args=[case.pk, "callback"]), data, follow=True)


def overdue_numbers(client) -> list[str]:
    return [case.registration.number for case, _badge in client.get(INBOX, {"deadline": "overdue"}).context["rows"]]


def test_a_call_back_reached_is_no_longer_the_overdue_deadline(officer_client, municipality, handler):
    """Recorded as reached on the case page, the call-back leaves the overdue list, the SQL rule and the model's
    rule agree, and the timeline says who called and what was discussed."""
    case = phoned_case(handler)
    assert case.next_deadline()[0] == "callback"
    assert case.registration.number in overdue_numbers(officer_client)
    page = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert "Terugbellen vastleggen" in page

    response = act(officer_client, case, {"expected_state": case.state, "reached": "yes", "note": "Uitgelegd dat de aannemer volgende week komt."})

    assert "de indiener is gesproken" in response.content.decode()
    case.refresh_from_db()
    assert case.called_back_at is not None
    assert not case.callback_owed() and not Case.objects.filter(callback_owed_q(), pk=case.pk).exists()
    assert case.next_deadline()[0] != "callback"  # the term of its state is next
    event = CaseEvent.objects.get(case=case, name="callback")
    assert event.actor == handler and event.internal and "aannemer volgende week" in event.note
    assert "Terugbellen vastleggen" not in officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()


def test_a_call_back_not_reached_keeps_the_deadline_and_notes_the_attempt(officer_client, municipality, handler):
    """Nobody answered: the attempt is on the timeline, the call-back is still owed and still overdue."""
    case = phoned_case(handler)
    response = act(officer_client, case, {"expected_state": case.state, "reached": "no", "note": ""})
    assert "niet bereikt" in response.content.decode()
    case.refresh_from_db()
    assert case.called_back_at is None and case.callback_owed()
    assert case.registration.number in overdue_numbers(officer_client)
    assert CaseEvent.objects.get(case=case, name="callback").note == "Teruggebeld, indiener niet bereikt"


def test_a_second_reached_saves_nothing_and_says_when_it_was_recorded(municipality, handler):
    case = phoned_case(handler)
    case_record_callback(case_id=case.pk, reached=True, note="", actor=handler)
    first = Case.objects.get(pk=case.pk).called_back_at
    with pytest.raises(WorkflowError, match="al vastgelegd op"):
        case_record_callback(case_id=case.pk, reached=True, note="nog eens", actor=handler)
    assert Case.objects.get(pk=case.pk).called_back_at == first
    assert CaseEvent.objects.filter(case=case, name="callback").count() == 1


def test_a_case_without_a_call_back_request_refuses_it_in_dutch(officer_client, municipality, handler):
    case = CaseFactory()
    response = act(officer_client, case, {"expected_state": case.state, "reached": "yes", "note": ""})
    assert "geen terugbelverzoek open" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, name="callback").exists()
    assert Case.objects.get(pk=case.pk).called_back_at is None


def test_the_form_needs_a_choice(officer_client, municipality, handler):
    case = phoned_case(handler)
    response = act(officer_client, case, {"expected_state": case.state, "note": "iets"})
    assert "Kies of de indiener bereikt is." in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, name="callback").exists()


def test_the_deadline_scan_no_longer_lists_a_call_back_made(municipality, handler):
    """The daily scan (digest and reminders) counts a call-back as overdue until it is recorded as made."""
    case = phoned_case(handler)

    def listed() -> bool:
        scan = deadline_scan()
        return any(item.case_id == case.pk and item.deadline == "callback" for item in [*scan.overdue, *scan.callbacks_due])

    assert listed()
    case_record_callback(case_id=case.pk, reached=True, note="", actor=handler)
    assert not listed()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server: the transactional tests' own marker
def test_the_officer_records_a_call_back_in_chromium_without_an_axe_violation(browser, live_server, municipality, handler):  # noqa: F811
    """On the case page the call-back form is a labelled radio group with a note; after "Ja, gesproken" the page
    says so and the form is gone. axe finds no serious or critical violation before or after."""
    case = phoned_case(handler)
    page = log_in(browser, live_server, handler)
    journey = Journey(page, "callback")
    journey.visit(f"{live_server.url}/beheer/zaken/{case.pk}/", "terugbellen")
    page.get_by_label("Ja, gesproken").check()
    page.get_by_label("Wat is besproken?").fill("Uitgelegd wanneer de stoep dicht gaat.")
    page.get_by_role("button", name="Terugbellen vastleggen").click()
    page.wait_for_selector("text=de indiener is gesproken")
    journey.check("teruggebeld")
    assert page.locator("text=Terugbellen vastleggen").count() == 0
    assert Case.objects.get(pk=case.pk).called_back_at is not None
