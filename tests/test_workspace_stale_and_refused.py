"""The officers' case page and the mailroom as they are used: stale tabs, double clicks, refused forms.
Nothing typed is lost, nothing a colleague did is overwritten unseen, and nobody is blamed for a double click
(found by a review in Chromium, December 2026)."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cases import errors
from cases.models import CaseEvent, CaseState
from cases.workflow.handling import case_assign
from cases.workflow.transitions import case_record_hearing, case_transition, report_fingerprint
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

REASON = "De afdeling Publiekszaken moet de gespreksopnamen van 12 november nog terugzoeken; dat kost twee weken extra."


def act(client, case, action, data, follow=False):
    return client.post(reverse("handvest_workspace:case_action", args=[case.pk, action]), data, follow=follow)


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- form errors throw away what the officer typed -------------------------------------------------
def test_a_refused_extension_keeps_the_reason_the_officer_typed(officer_client, municipality):
    # The officer types a long reason for the interim notice and picks a date one day too far.
    # Expected: the page comes back with the error AND the typed reason (and date) still in the form.
    # Happens: case_action always redirects (PRG) to the case page; the extension form is empty again,
    # the reason is lost and must be typed again (cases/workspace/actions.py case_action).
    case = CaseFactory(in_treatment=True)
    too_late = case.answer_due + datetime.timedelta(days=60)
    response = act(officer_client, case, "extend", {"expected_state": case.state, "new_due": too_late.isoformat(), "reason": REASON}, follow=True)
    case.refresh_from_db()
    assert case.extended_answer_due is None
    assert REASON in response.content.decode(), "the typed reason is gone after the refusal"


def test_a_hearing_report_refused_for_a_too_long_name_keeps_the_report(officer_client, municipality):
    # A long hearing report is written; the 'Over de gedraging van' field is over 200 characters.
    # Expected: error next to that field, report text kept. Happens: redirect, the whole report is lost.
    case = CaseFactory(in_treatment=True)
    case = case_transition(case_id=case.pk, name="schedule_hearing", actor=officer(), on=timezone.localdate())
    report = "Aanwezig: mevrouw De Vries (indiener), de heer Bakker (teamleider). " * 8
    response = act(
        officer_client, case, "hearing_report", {"expected_state": case.state, "report": report, "complained_about": "x" * 201}, follow=True
    )
    case.refresh_from_db()
    assert case.hearing_report == ""
    assert "mevrouw De Vries (indiener)" in response.content.decode(), "the typed hearing report is gone after the refusal"


def test_a_refused_step_keeps_its_note_and_hearing_date(officer_client, municipality):
    # A hearing date two years ahead is refused; the step's form comes back with the date and the note typed.
    case = CaseFactory(in_treatment=True)
    far = timezone.localdate() + datetime.timedelta(days=800)
    note = "Indiener wil graag op een dinsdagmiddag komen, met een tolk."
    data = {"name": "schedule_hearing", "expected_state": case.state, "on": far.isoformat(), "note": note}
    html = act(officer_client, case, "transition", data, follow=True).content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert note in html and f'value="{far.isoformat()}"' in html, "the step's note or hearing date is gone after the refusal"


def test_refused_ombudsman_findings_keep_what_the_officer_typed(officer_client, municipality):
    # A report date in the future is refused; the findings and measures typed come back in their form.
    from cases.conversation.ombudsman import ombudsman_record

    case = CaseFactory(closed=True)
    ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate(), actor=officer())
    findings = "De ombudsman vindt dat de gemeente te laat reageerde op de melding over de container."
    data = {"findings": findings, "measures": "Werkinstructie aangepast.", "findings_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}
    html = officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "findings"]), data, follow=True).content.decode()
    assert findings in html and "Werkinstructie aangepast." in html, "the ombudsman's findings typed are gone after the refusal"


# --- stale tabs ---------------------------------------------------------------------------------
def test_a_stale_tab_does_not_silently_replace_a_colleagues_hearing_report(officer_client, municipality):
    # Two officers have the case open. A colleague records the hearing report. The other, whose tab
    # still shows an empty report form, writes and saves theirs. Expected (README: "when a colleague
    # changed the case meanwhile ... nothing is saved"): the conflict message, the colleague's report stays.
    # Happens: only the state is compared, which did not change; the colleague's report is overwritten.
    case = CaseFactory(in_treatment=True)
    case = case_transition(case_id=case.pk, name="schedule_hearing", actor=officer(), on=timezone.localdate())
    seen_state = case.state
    case_record_hearing(case_id=case.pk, report="Verslag van collega Bakker: volledig.", actor=officer("bakker"))
    stale_page = {"expected_state": seen_state, "seen": report_fingerprint("")}  # the empty report that tab showed
    response = act(officer_client, case, "hearing_report", {**stale_page, "report": "Mijn eigen korte verslag."})
    assert shown(response) == [str(errors.CONCURRENT_REPORT)]
    case.refresh_from_db()
    assert case.hearing_report == "Verslag van collega Bakker: volledig."


def test_a_stale_tab_does_not_silently_reassign_a_case_a_colleague_just_took(officer_client, municipality, handler):
    # The case is unassigned when the page is loaded. A colleague takes it. From the stale tab the
    # officer assigns it to a third officer. Expected: the conflict message, the colleague keeps it.
    # Happens: the assignment is overwritten without a word (expected_state is the same).
    case = CaseFactory(acknowledged=True)
    case_assign(case_id=case.pk, officer_id=None, actor=handler)
    seen_state = case.state
    colleague, third = officer("bakker"), officer("de.vries")
    case_assign(case_id=case.pk, officer_id=colleague.pk, actor=colleague)
    response = act(officer_client, case, "assign", {"expected_state": seen_state, "seen_officer": "", "officer": third.pk})  # that tab showed nobody
    assert "bakker" in shown(response)[0]
    case.refresh_from_db()
    assert case.assigned_to_id == colleague.pk


# --- double click ------------------------------------------------------------------------------
def test_a_double_click_on_a_step_button_does_not_blame_a_colleague(officer_client, municipality):
    # The officer double-clicks "Ontvangst bevestigen" (Zonder brief). The first POST does the step,
    # the second arrives with the old state. Expected: the step once, and no message that a colleague
    # changed the case. Happens: "Een collega heeft deze zaak net gewijzigd…" although nobody else acted,
    # which sends the officer looking for a colleague (cases/workspace/actions.py, _step.html has no
    # guard against a second submit).
    case = CaseFactory()
    data = {"name": "acknowledge", "expected_state": case.state}
    act(officer_client, case, "transition", data)
    response = act(officer_client, case, "transition", data)
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert CaseEvent.objects.filter(case=case, name="acknowledge").count() == 1
    assert not any("collega" in m for m in shown(response)), shown(response)


# --- letters: a colleague's step throws away the letter text --------------------------------------
def test_a_letter_being_written_is_not_thrown_away_when_the_case_moved_meanwhile(officer_client, municipality):
    # The officer writes a free letter (kind 'other') on the composer; meanwhile a colleague
    # acknowledges the case. On "Versturen" the composer checks the state first and redirects to the
    # case page: the whole letter text is gone. Expected: the composer comes back with the conflict
    # message and the typed text (cases/workspace/compose.py compose: the `seen != case.state` redirect).
    case = CaseFactory()
    body = "Geachte mevrouw, naar aanleiding van uw telefoontje van vanmorgen laat ik u het volgende weten. " * 5
    seen_state = case.state
    case_transition(case_id=case.pk, name="acknowledge", actor=officer("bakker"))
    response = officer_client.post(
        reverse("handvest_workspace:compose", args=[case.pk]),
        {"expected_state": seen_state, "kind": "other", "step": "", "subject": "Uw telefoontje", "body_text": body, "action": "send"},
        follow=True,
    )
    assert "naar aanleiding van uw telefoontje van vanmorgen" in response.content.decode()


# --- mailroom: a colleague posted some letters meanwhile --------------------------------------------
def _pdf_letter(case):
    from cases.correspondence.delivery import outgoing_send
    from cases.correspondence.outbox import acknowledgement_queue

    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    message.refresh_from_db()
    return message


@pytest.fixture
def clerk_client(client):
    from cms.roles import MAILROOM
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    return client


def test_posting_a_batch_from_a_stale_queue_says_which_letter_was_already_posted(clerk_client, municipality):
    # Two mailroom clerks have the print queue open. One marks letter A as posted. The other ticks
    # A and B and clicks "Aangevinkte brieven zijn gepost". Expected: a Dutch message that names A by
    # its registration number ("HLG-… is al gepost"), so the clerk knows what to untick.
    # Happens: Django's "Selecteer een geldige keuze. <database id> is geen beschikbare keuze." - an
    # internal id the clerk cannot find on the page (cases/workspace/mailroom.py PostedForm/mark_posted).
    from cases.correspondence.post import letters_mark_posted

    a, b = CaseFactory(email=""), CaseFactory(email="")
    letter_a, letter_b = _pdf_letter(a), _pdf_letter(b)
    letters_mark_posted(outgoing_ids=[letter_a.pk], posted_on=timezone.localdate(), actor=officer("collega"))
    response = clerk_client.post(
        reverse("handvest_mailroom:mark_posted"), {"letters": [letter_a.pk, letter_b.pk], "posted_on": timezone.localdate().isoformat()}
    )
    said = " ".join(shown(response))
    assert "geen beschikbare keuze" not in said, said
    assert a.registration.number in said, said


def test_the_posted_message_is_proper_dutch_for_one_letter(clerk_client, municipality):
    # Expected: "1 brief staat als gepost op …". Happens: "1 brief/brieven staan als gepost op …"
    # (cases/workspace/mailroom.py DONE_POSTED; the print queue heading itself uses pluralize correctly).
    letter = _pdf_letter(CaseFactory(email=""))
    response = clerk_client.post(reverse("handvest_mailroom:mark_posted"), {"letters": [letter.pk], "posted_on": timezone.localdate().isoformat()})
    said = shown(response)
    assert any(m.startswith("1 brief staat") for m in said), said
