"""Found by the review of stop 31's own commits: the web form's identity and thank-you page, the 413 page under
CSRF, merged terms, a hearing after a waiver, inline e-mail answers, ESP bounces on SQLite, the annual report's
summary. Each test failed before its fix."""

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.intake import webform
from cases.models import Registration
from tests.test_intake_webform import valid_data

pytestmark = pytest.mark.django_db

FORM_URL = "/melding/"
THANKS_URL = "/melding/ontvangen/"
PDF = b"%PDF-1.4\n" + b"0" * 8000 + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def form_data(**overrides):
    """The web form of a citizen who gives a postal address, no e-mail."""
    return valid_data(**{"description": "De balie was dicht.", "email": "", "address": "Voorstraat 1\n8861 BL Harlingen", **overrides})


def test_two_people_at_one_address_with_the_same_short_complaint_are_two_registrations(municipality):
    """Two residents of one address (a care home, a family), no e-mail, write the same short words on one
    day: they are two complainants, not a double click. The second must not get the first one's case."""
    first, second = Client(), Client()
    first.post(FORM_URL, form_data(name="Jan de Vries", phone="0517 111111"))
    first_page = first.get(THANKS_URL).content.decode()
    second.post(FORM_URL, form_data(name="Piet Bakker", phone="0517 222222"))
    second_page = second.get(THANKS_URL).content.decode()
    assert Registration.objects.count() == 2
    first_link = re.search(r'href="(/zaak/[^"]+)"', first_page).group(1)
    assert first_link not in second_page  # Piet must never see Jan's private link


def test_a_body_over_the_limit_is_refused_with_413_also_when_csrf_is_checked(municipality, monkeypatch):
    """In production CsrfViewMiddleware reads request.POST before a view: the form sets its files to be skipped
    before the CSRF check, so a body over the limit gets 413 with what was typed, never a 500."""
    monkeypatch.setattr(webform, "MAX_REQUEST_BYTES", 4000)  # the real limit (100 MB) scaled down
    client = Client(enforce_csrf_checks=True)
    html = client.get(FORM_URL).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(
        FORM_URL, form_data(csrfmiddlewaretoken=token, description="Mijn getypte tekst.", attachments=[SimpleUploadedFile("scan.pdf", PDF)])
    )
    assert response.status_code == 413
    assert "Mijn getypte tekst." in response.content.decode()


# --- the law: merge, hearing ------------------------------------------------------------------------------


def test_merging_an_earlier_duplicate_does_not_make_an_acknowledgement_sent_on_time_late(gemeente):
    """The duplicate (received two weeks ago) was acknowledged the next day; the target (received today) was
    acknowledged today. Both acknowledgements went out in time; after the merge the compliance figures (which
    count the matter on the target) must not report the acknowledgement as late: the target's acknowledgement
    term cannot end before the target was even received."""
    import datetime

    from django.utils import timezone

    from cases.models import Case, CaseFact, Kind, OutgoingMessage
    from cases.reporting import compliance
    from cases.reporting.rollup import rollup_refresh
    from cases.workflow.handling import case_merge
    from tests.factories import CaseFactory, duplicate_of, officer

    today = timezone.localdate()
    duplicate = CaseFactory(acknowledged=True, received_on=today - datetime.timedelta(days=14), email="piet@example.nl")
    next_day = timezone.now() - datetime.timedelta(days=13)
    Case.objects.filter(pk=duplicate.pk).update(acknowledged_at=next_day)
    target = duplicate_of(duplicate, acknowledged=True)
    assert not OutgoingMessage.objects.filter(kind="acknowledgement").exists()  # acknowledged_at is the day it left
    assert timezone.localdate(target.acknowledged_at) <= target.acknowledgement_due

    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=officer())
    rollup_refresh()
    assert CaseFact.objects.filter(case=target.pk).exists()
    start = datetime.date(duplicate.registration.received_on.year, 1, 1)
    figures = compliance.compliance_by_kind(start=start, end=datetime.date(today.year + 1, 1, 1), as_of=today)[Kind.COMPLAINT]
    share = figures.acknowledgement_on_time
    assert (share.part, share.whole) == (1, 1)


def test_a_complaint_heard_after_all_can_be_judged_well_founded(gemeente):
    """The officer first waived the hearing as manifestly unfounded, then invited the complainant after all (as
    the refusal itself advises: 'nodig de indiener uit voor een hoorgesprek') and heard them. The complainant was
    heard, so the complaint may be judged gegrond; the old waiver text must not block it."""
    from django.utils import timezone

    from cases.models import CaseState, HearingWaiverGround
    from cases.workflow.transitions import case_record_hearing, case_transition, case_waive_hearing
    from tests.factories import CaseFactory, officer

    actor = officer()
    case = CaseFactory(in_treatment=True, actor=actor)
    case_waive_hearing(case_id=case.pk, ground=HearingWaiverGround.UNFOUNDED, reason="Het gebouw was die dag gesloten.", actor=actor)
    case_transition(case_id=case.pk, name="schedule_hearing", actor=actor, on=timezone.localdate())
    case_record_hearing(case_id=case.pk, report="De indiener vertelde dat hij wel degelijk voor een dichte deur stond.", actor=actor)
    case_transition(case_id=case.pk, name="answer", actor=actor)
    case = case_transition(case_id=case.pk, name="close", actor=actor, outcome="gegrond")
    assert case.state == CaseState.CLOSED and case.outcome == "gegrond"


# --- e-mail answers -------------------------------------------------------------------------------------


def test_an_answer_written_inline_below_the_quote_header_is_kept(gemeente):
    """Many people answer between the quoted lines ('zie hieronder'): the answer written below the quote header is
    kept, only the quoted lines and the header go."""
    from cases.conversation.questions import question_ask
    from cases.intake.email import email_intake
    from cases.models import InboundOutcome, QuestionStatus
    from tests.factories import CaseFactory, officer

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Op welke dag was u aan de balie?", actor=officer(), expected_state=case.state)
    body = (
        "Zie mijn antwoord hieronder.\n\n"
        "Op 30 nov. 2026 schreef Gemeente Harlingen <info@harlingen.nl>:\n"
        "> Op welke dag was u aan de balie?\n"
        "Dinsdag 1 december, rond half elf, bij loket 3.\n"
    )
    raw = (
        f"From: Piet <piet@example.nl>\nTo: info@harlingen.nl\nSubject: Re: {question.letter.subject}\n"
        f"Date: Wed, 02 Dec 2026 10:00:00 +0100\nMessage-ID: <inline-{question.pk}@example.nl>\n"
        f"In-Reply-To: {question.letter.message_id}\nReferences: {question.letter.message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()
    assert email_intake(raw=raw, source="eml").outcome == InboundOutcome.THREAD
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED
    assert "1 december" in question.answer_text, question.answer_text


# --- the ESP's tracking webhook ---------------------------------------------------------------------------


def test_a_tracking_bounce_is_handled_on_the_embedded_database_too(gemeente, monkeypatch, django_capture_on_commit_callbacks):
    """The embedded default database is SQLite (make run), which refuses a JSON ``contains`` lookup: the ESP's event
    is found again by one key's equality, which every database answers. Simulated here by PostgreSQL refusing it."""
    from anymail.signals import AnymailTrackingEvent
    from django.db import connection
    from django.db.models.fields.json import DataContains

    from cases.intake.bounces import handle_tracking
    from cases.models import OutgoingMessage, Registration
    from tests.factories import CaseFactory

    case = CaseFactory(explained=True, email="a.dijkstra@ziggo.nl", address="Voorstraat 1\n8861 BK Harlingen")
    OutgoingMessage.objects.create(
        case=case, kind="answer", channel="email", status="sent", dedupe_key=f"answer-{case.pk}-x", automatic=False,
        to_email="a.dijkstra@ziggo.nl", subject="Antwoord", body_text="Ons antwoord.", message_id="<answer.9@handvest.harlingen.nl>",
        provider_message_id="esp-123",
    )
    # As on sqlite3 (DatabaseFeatures.supports_json_field_contains = False; no vendor-specific SQL for the lookup):
    monkeypatch.setattr(connection.features, "supports_json_field_contains", False)
    monkeypatch.setattr(DataContains, "as_postgresql", DataContains.as_sql)
    event = AnymailTrackingEvent(event_type="bounced", message_id="esp-123", event_id="ev-1", recipient="a.dijkstra@ziggo.nl", description="550 5.1.1")
    with django_capture_on_commit_callbacks(execute=False):
        handle_tracking(sender=None, event=event, esp_name="Postmark")
    assert Registration.objects.get(pk=case.registration_id).email_undeliverable


# --- the annual report --------------------------------------------------------------------------------


def test_the_annual_report_does_not_give_away_a_small_number_of_open_cases(gemeente):
    """The summary shows received, handled and open side by side: with 5 received, 3 handled and none withdrawn, an
    open '<3' would be 5 - 3 = 2 exactly, so another figure of the summary is hidden too."""
    from django.utils import timezone

    from cases.reporting.report import report_build
    from cases.reporting.rollup import rollup_refresh
    from tests.factories import CaseFactory, officer

    today = timezone.localdate()
    actor = officer()
    for _ in range(3):
        CaseFactory(answered=True, received_on=today, actor=actor)
    for _ in range(2):
        CaseFactory(received_on=today, actor=actor)
    rollup_refresh()
    report = report_build(year=today.year, as_of=today)
    summary = {row.key: row.cells["complaint"].value for row in report.section("summary").rows}
    withdrawn = {row.key: row.cells["count"].value for row in report.section("outcomes_complaints").rows}["ingetrokken"]
    assert withdrawn == 0
    derivable = isinstance(summary["received"], int) and isinstance(summary["handled"], int) and str(summary["open"]).startswith("<")
    assert not derivable, f"open shown as {summary['open']}, but received {summary['received']} - handled {summary['handled']} gives it away"


def test_sending_the_same_form_again_does_not_bring_the_private_link_back(municipality):
    """The thank-you page shows the private link on its first view only; Back and send again is the same
    registration, and it does not bring the link back for the next person on a shared computer."""
    client = Client()
    data = form_data(email="sietske@example.nl", address="", description="Ik heb drie kwartier aan de balie gewacht.")
    client.post(FORM_URL, data)
    assert "/zaak/" in client.get(THANKS_URL).content.decode()  # the citizen's own first view
    assert "/zaak/" not in client.get(THANKS_URL).content.decode()  # the next person opening the page
    client.post(FORM_URL, data)  # the next person: Back, Back, Send
    assert Registration.objects.count() == 1
    assert "/zaak/" not in client.get(THANKS_URL).content.decode()
