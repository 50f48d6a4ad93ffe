"""The private page as the citizen's conversation: every message both ways in order, what waits for
the citizen first, plain Dutch, labelled forms, usable on a phone; and in a real browser with axe."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.conversation.questions import question_answer, question_ask
from cases.conversation.satisfaction import survey_ask
from cases.conversation.timeline import conversation_entries
from cases.correspondence.delivery import outgoing_send
from cases.correspondence.steps import case_step_with_letter
from cases.models import CaseEvent, CitizenQuestion, InboundMessage, OutgoingMessage, SatisfactionSurvey
from tests.factories import CaseFactory, officer
from tests.test_browser_flow import Steps, browser  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db


def page(client, case) -> str:
    return client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


def sent(message: OutgoingMessage) -> None:
    outgoing_send(outgoing_id=message.pk)


def test_every_message_both_ways_stands_in_order(client, gemeente):
    case = CaseFactory(in_treatment=True, email="piet@example.nl", text="De balie was dicht om 16.00 uur.")
    first = question_ask(case_id=case.pk, text="Welke dag was dat?", actor=officer())
    sent(first.letter)
    question_answer(case_id=case.pk, question_id=first.pk, text="Op dinsdag.")
    _case, explanation = case_step_with_letter(
        case_id=case.pk, name="explain", kind="explanation", subject="Uitleg", body_text="Beste Piet, de uitleg.", actor=officer()
    )
    sent(explanation)
    titles = [(entry.direction, entry.title) for entry in conversation_entries(case)]
    assert titles == [
        ("in", "Uw klacht"),
        ("out", "Vraag aan u"),
        ("in", "Uw antwoord op onze vraag"),
        ("out", "Uitleg"),
    ]
    html = page(client, case)
    html = html[html.index('id="gesprek"') :]
    positions = [html.index(text) for text in ("De balie was dicht om 16.00 uur.", "Welke dag was dat?", "Op dinsdag.", "Beste Piet, de uitleg.")]
    assert positions == sorted(positions)
    assert "Van u:" in html and "Van ons:" in html


def test_what_waits_for_the_citizen_comes_first(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question_ask(case_id=case.pk, text="Heeft u een foto?", actor=officer())
    html = page(client, case)
    assert html.index("<h1") < html.index("Wij wachten op uw antwoord") < html.index("Wat gebeurt er nu?") < html.index("Ons gesprek")


def test_internal_notes_never_reach_the_page(client, gemeente):
    from cases.workflow.handling import case_add_note  # only this test adds a note

    case = CaseFactory(in_treatment=True)
    case_add_note(case_id=case.pk, text="Intern: deze indiener belt vaak.", actor=officer())
    question_ask(case_id=case.pk, text="Wat bedoelt u?", actor=officer())
    assert "Intern: deze indiener belt vaak." not in page(client, case)


def test_the_forms_are_labelled_and_errors_are_tied_to_their_fields(client, gemeente):
    case = CaseFactory(in_treatment=True)
    question = question_ask(case_id=case.pk, text="Wat bedoelt u?", actor=officer())
    html = page(client, case)
    field_id = f"id_reply{question.pk}_text"
    assert f'<label for="{field_id}">' in html and f'id="{field_id}_hint"' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html and '<html lang="nl">' in html
    response = client.post(reverse("cases:question_reply", kwargs={"token": case.public_token, "pk": question.pk}), {"text": ""})
    body = response.content.decode()
    assert 'role="alert"' in body and f'aria-describedby="{field_id}_hint {field_id}_error"' in body and 'aria-invalid="true"' in body
    assert body.count("<h1") == 1


def test_the_texts_are_plain_dutch_without_jargon(client, gemeente):
    case = CaseFactory(closed=True)
    survey_ask(case_id=case.pk)
    question_text = page(client, case)
    visible = re.sub(r"<[^>]+>", " ", question_text)
    for jargon in ("status_code", "None", "pending", "answered", "Submit", "Awb 9:18"):
        assert jargon not in visible
    assert "Bent u tevreden?" in visible and "Hoe tevreden bent u?" in visible


# --- in a real browser, on a phone, with axe ---------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_citizen_answers_a_question_and_gives_a_score_on_a_phone(browser, live_server, harlingen, settings):  # noqa: F811 (the fixture)
    from axe_playwright_python.sync_playwright import Axe  # only the browser tests need axe

    settings.BASE_URL = live_server.url
    case = CaseFactory(in_treatment=True, name="Sietske de Vries", email="sietske@example.nl", text="Ik stond een half uur aan de balie te wachten.")
    question_ask(case_id=case.pk, text="Op welke dag en hoe laat was u aan de balie?", actor=officer())
    citizen = Steps(browser.new_page(viewport={"width": 375, "height": 812}, locale="nl-NL", is_mobile=True), "gesprek")
    page_ = citizen.page

    def axe_clean(name: str) -> None:
        results = Axe().run(page_)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, f"axe on {page_.url}: {serious}"
        assert page_.evaluate("() => document.documentElement.scrollWidth") <= 375 + 1, "no sideways scrolling on a phone"
        citizen.shot(name)

    page_.goto(f"{live_server.url}{reverse('cases:case_status', kwargs={'token': case.public_token})}")
    axe_clean("inwoner-vraag")
    page_.fill("textarea[name=text]", "Dinsdag 3 november, rond 10 uur.")
    page_.click("text=Antwoord versturen")
    page_.wait_for_selector("#verstuurd")
    axe_clean("inwoner-antwoord-verstuurd")
    assert CitizenQuestion.objects.get(case=case).answer_text == "Dinsdag 3 november, rond 10 uur."

    from cases.workflow.transitions import case_transition, case_waive_hearing  # the officer finishes the case

    case_waive_hearing(case_id=case.pk, ground="kennelijk_ongegrond", reason="Kennelijk ongegrond", actor=officer())
    case_transition(case_id=case.pk, name="answer", actor=officer())
    case_transition(case_id=case.pk, name="close", actor=officer(), outcome="ongegrond")
    survey_ask(case_id=case.pk)
    page_.reload()
    axe_clean("inwoner-tevredenheid")
    page_.check("input[name=score][value='4']")
    page_.fill("textarea[name=reason]", "Vriendelijk, maar het duurde lang.")
    page_.click("text=Mening versturen")
    page_.wait_for_selector("#verstuurd")
    axe_clean("inwoner-mening-verstuurd")
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.score == 4 and survey.answered_at <= timezone.now() + datetime.timedelta(seconds=1)


def test_the_citizens_own_emails_stand_in_the_conversation_once(client, gemeente):
    from cases.intake.email import email_intake  # only this test takes in mail

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    number = case.registration.number
    raw = (
        f"From: Piet <piet@example.nl>\nTo: info@harlingen.nl\nSubject: Aanvulling {number}\nMessage-ID: <aanvulling-1@example.nl>\n"
        "Date: Wed, 02 Dec 2026 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\nIk vergat te zeggen: het was om 10 uur.\n"
    ).encode()
    email_intake(raw=raw, source="eml")
    entries = [entry for entry in conversation_entries(case) if entry.title == "Uw e-mail"]
    assert len(entries) == 1 and "om 10 uur" in entries[0].text
    assert page(client, case).count("Ik vergat te zeggen") == 1


def test_mail_from_another_address_that_names_the_number_never_shows_on_the_citizens_page(client, gemeente):
    """Registration numbers run in sequence: anyone can mail "Re: HLG-…". Such mail joins the case for the
    officer (marked as from another sender), but the citizen's private page shows only their own mail."""
    from cases.intake.email import email_intake

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    number = case.registration.number
    raw = (
        f"From: Onbekende <iemand@example.org>\nTo: info@harlingen.nl\nSubject: Re: {number}\nMessage-ID: <vreemd-1@example.org>\n"
        "Date: Wed, 02 Dec 2026 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\nKlik hier om uw gegevens te bevestigen.\n"
    ).encode()
    email_intake(raw=raw, source="eml")
    assert InboundMessage.objects.get(message_id="<vreemd-1@example.org>").case_id == case.pk  # the officer has it
    assert "niet het adres van de indiener" in CaseEvent.objects.filter(case=case, kind="message_in").get().note
    assert [entry for entry in conversation_entries(case) if entry.title == "Uw e-mail"] == []
    assert "gegevens te bevestigen" not in page(client, case)


def test_the_citizens_reply_from_behind_a_reply_to_address_stands_in_the_conversation(client, gemeente):
    """Registered from its Reply-To (a work account forwarding to a home address): the citizen's next mail
    with the same headers is theirs, and is shown."""
    from cases.intake.email import email_intake

    first = (
        b"From: Jan <jan@werk.example.nl>\nReply-To: jan@thuis.example.nl\nTo: info@harlingen.nl\nSubject: Klacht over de balie\n"
        b"Message-ID: <eerste-1@werk.example.nl>\nDate: Tue, 01 Dec 2026 09:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Ik ben aan de balie afgesnauwd door een medewerker. Dit is een klacht.\n"
    )
    email_intake(raw=first, source="eml")
    case = InboundMessage.objects.get(message_id="<eerste-1@werk.example.nl>").registration.case
    assert case.registration.sender_email == "jan@thuis.example.nl"
    follow_up = (
        f"From: Jan <jan@werk.example.nl>\nReply-To: jan@thuis.example.nl\nTo: info@harlingen.nl\nSubject: Aanvulling {case.registration.number}\n"
        "Message-ID: <tweede-1@werk.example.nl>\nDate: Wed, 02 Dec 2026 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
        "Het was om half elf, bij loket 3.\n"
    ).encode()
    email_intake(raw=follow_up, source="eml")
    assert [entry.text.strip() for entry in conversation_entries(case) if entry.title == "Uw e-mail"] == ["Het was om half elf, bij loket 3."]
    assert "niet het adres van de indiener" not in CaseEvent.objects.get(case=case, kind="message_in", name="email").note


@pytest.mark.parametrize(
    ("results", "shown"),
    [
        ("mx.harlingen.nl; dmarc=fail (p=none) header.from=example.nl; spf=fail smtp.mailfrom=example.nl", False),
        ("mx.harlingen.nl; spf=softfail smtp.mailfrom=example.nl; dkim=none", False),
        ("mx.harlingen.nl; spf=fail smtp.mailfrom=example.nl; dkim=pass header.d=example.nl", True),  # forwarded, still signed
        ("mx.harlingen.nl; spf=pass smtp.mailfrom=example.nl; dkim=pass header.d=example.nl; dmarc=pass", True),
    ],
)
def test_mail_in_the_citizens_name_that_failed_authentication_stays_with_the_officer(client, gemeente, results, shown):
    """A forged From with the citizen's own address: the receiving server's verdict (the topmost
    Authentication-Results) keeps it off their page; a forwarded mail whose signature still holds is theirs."""
    from cases.intake.email import email_intake

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    raw = (
        f"Authentication-Results: {results}\nFrom: Piet <piet@example.nl>\nTo: info@harlingen.nl\n"
        f"Subject: Re: {case.registration.number}\nMessage-ID: <mogelijk-vals@example.nl>\nDate: Wed, 02 Dec 2026 10:00:00 +0100\n"
        "Content-Type: text/plain; charset=utf-8\n\nKlik hier om uw gegevens te bevestigen.\n"
    ).encode()
    email_intake(raw=raw, source="eml")
    assert InboundMessage.objects.get(message_id="<mogelijk-vals@example.nl>").case_id == case.pk
    assert ("gegevens te bevestigen" in page(client, case)) is shown
    note = CaseEvent.objects.get(case=case, kind="message_in").note
    assert ("mogelijk vervalst" in note) is not shown
