"""The citizen's private page: what happens next, every letter to download, the outcome and the answer."""

import io

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from pypdf import PdfReader

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.correspondence.steps import case_step_with_letter
from cases.workflow.handling import case_merge
from cases.workflow.transitions import case_record_hearing, case_transition
from tests.factories import CaseFactory, duplicate_of, officer

pytestmark = pytest.mark.django_db

ANSWER = "Beste inwoner,\n\nWij hebben uw klacht onderzocht en vinden haar gegrond.\n\nBent u het niet eens, dan kunt u naar de Nationale ombudsman."


def page(client, case) -> str:
    return client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


def test_the_page_says_what_happens_next_in_each_state(client, gemeente):
    received = CaseFactory()
    assert "Binnen 4 werkdagen krijgt u een ontvangstbevestiging" in page(client, received)
    # What the acknowledgement holds (date of receipt, number), not a handler it never names.
    assert "Daarin staan de datum waarop wij uw klacht ontvingen en uw registratienummer." in page(client, received)
    explained = CaseFactory(explained=True)
    assert "Bent u daarmee tevreden, dan sluiten wij uw klacht af" in page(client, explained)
    resolved = CaseFactory(in_treatment=True)
    case_transition(case_id=resolved.pk, name="resolve_informally", actor=officer())
    assert "naar uw tevredenheid opgelost" in page(client, resolved)


def test_the_answer_and_the_outcome_are_on_the_page_with_every_letter_to_download(client, gemeente):
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    _case, explanation = case_step_with_letter(
        case_id=case.pk, name="explain", kind="explanation", subject="Uitleg", body_text="Beste inwoner, de uitleg.", actor=officer()
    )
    case_transition(case_id=case.pk, name="schedule_hearing", actor=officer(), on=timezone.localdate())
    case_record_hearing(case_id=case.pk, report="Gehoord.", actor=officer())
    _case, answer = case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject="Antwoord op uw klacht", body_text=ANSWER, actor=officer())
    for letter in (explanation, answer):
        outgoing_send(outgoing_id=letter.pk)
    case_transition(case_id=case.pk, name="close", actor=officer(), outcome="gegrond")
    html = page(client, case)
    assert "Uitkomst</dt><dd>Gegrond" in html
    assert "Wij hebben uw klacht onderzocht en vinden haar gegrond." in html
    assert "Nationale ombudsman" in html
    download = reverse("cases:case_letter", kwargs={"token": case.public_token, "pk": answer.pk})
    assert download in html
    assert reverse("cases:case_letter", kwargs={"token": case.public_token, "pk": explanation.pk}) in html
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="antwoord-{case.registration.number}.pdf"' in response["Content-Disposition"]
    assert "gegrond" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_a_closed_case_names_the_ombudsman_the_municipality_chose_and_only_once(client, gemeente):
    from tests.test_conversation_ombudsman import own_ombudsman

    own_ombudsman()
    html = page(client, CaseFactory(closed=True))
    assert "Nationale ombudsman" not in html
    assert "de Ombudsman Harlingen" in html and "Hieronder staat waar u dan terecht kunt" in html


def test_a_forwarded_complaint_says_who_takes_it_up_and_no_ombudsman(client, gemeente):
    case = CaseFactory(acknowledged=True)
    case_transition(case_id=case.pk, name="forward", actor=officer(), to="Wetterskip Fryslân")
    html = page(client, case)
    assert "naar hen doorgestuurd" in html and "Wetterskip Fryslân" in html and "zij nemen contact met u op" in html
    assert "ombudsman" not in html.lower() and "is afgehandeld" not in html


def test_a_merged_case_says_it_is_handled_with_another_and_promises_no_date(client, gemeente):
    target = CaseFactory(acknowledged=True)
    duplicate = duplicate_of(target, acknowledged=True)
    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=officer())
    html = page(client, duplicate)
    assert "samen met een andere melding" in html
    assert "Antwoord uiterlijk" not in html and "binnenkort bekeken" not in html
    assert target.registration.number not in html  # the other melding may be someone else's


def test_a_reopened_case_shows_the_answer_as_the_earlier_one_with_the_new_date(client, gemeente):
    from cases.conversation.reopening import reopen_decide
    from cases.models import ReopenRequest

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    case_transition(case_id=case.pk, name="schedule_hearing", actor=officer(), on=timezone.localdate())
    case_record_hearing(case_id=case.pk, report="Gehoord.", actor=officer())
    _case, answer = case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject="Antwoord op uw klacht", body_text=ANSWER, actor=officer())
    outgoing_send(outgoing_id=answer.pk)
    case_transition(case_id=case.pk, name="close", actor=officer(), outcome="ongegrond")
    assert "Ons eerdere antwoord" not in page(client, case)
    request = ReopenRequest.objects.create(case=case)
    reopen_decide(case_id=case.pk, request_id=request.pk, reopen=True, explanation="", actor=officer())
    case.refresh_from_db()
    html = page(client, case)
    assert "Ons eerdere antwoord" in html and "Wij hebben uw klacht onderzocht" in html
    assert f"sturen u uiterlijk {formats.date_format(case.effective_answer_due, 'j F Y')} een nieuw antwoord" in html


def test_a_letter_of_another_case_or_one_not_yet_sent_is_not_found(client, gemeente):
    mine, theirs = CaseFactory(email=""), CaseFactory(email="")
    waiting = acknowledgement_queue(case_id=theirs.pk)
    assert outgoing_send(outgoing_id=waiting.pk) == "to_print"  # waits for the mailroom: not sent yet
    assert client.get(reverse("cases:case_letter", kwargs={"token": theirs.public_token, "pk": waiting.pk})).status_code == 404
    assert client.get(reverse("cases:case_letter", kwargs={"token": mine.public_token, "pk": waiting.pk})).status_code == 404
