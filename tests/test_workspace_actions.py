"""Every change an officer makes on the case page: a POST that goes through a service.

Each POST carries the state the officer saw; a page that is out of date gets the Dutch conflict
message and changes nothing. Refusals come back as Dutch messages, never as a server error.
"""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from cases import errors
from cases.correspondence.outbox import PLACEHOLDER_RE
from cases.errors import CASE_IS_MERGED
from cases.models import Attachment, Case, CaseEvent, CaseNorm, CaseState, DeclineGround, EventKind, InboundMessage, OutgoingMessage, TagStatus
from cases.tagging import tags_store_suggestions
from cases.workflow.handling import MERGE_OTHER_SENDER, MERGE_SELF, MERGE_TARGET_CLOSED, MERGE_UNKNOWN, case_assign, case_merge
from cases.workflow.transitions import case_record_hearing, case_transition, case_waive_hearing
from cases.workspace import forms as wf
from cases.workspace.actions import DONE_MERGE, DONE_TRANSITION, STALE_FORM
from cms.roles import EDITORS
from tests.factories import CaseFactory, UserFactory, duplicate_of, officer

pytestmark = pytest.mark.django_db


def act(client, case, action, data, follow=False):
    return client.post(reverse("handvest_workspace:case_action", args=[case.pk, action]), data, follow=follow)


def shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def step(client, case, name, expected_state=None, **fields):
    return act(client, case, "transition", {"name": name, "expected_state": expected_state or case.state, **fields})


# --- transitions -----------------------------------------------------------------------------
def test_a_step_button_moves_the_case_and_logs_who_did_it(officer_client, municipality, handler):
    case = CaseFactory()
    response = step(officer_client, case, "acknowledge", note="per telefoon besproken")
    assert response.status_code == 302 and response["Location"].endswith(f"/beheer/zaken/{case.pk}/#acties")
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    event = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).last()
    assert (event.actor, event.name, event.note) == (handler, "acknowledge", "per telefoon besproken")
    assert shown(response) == [str(DONE_TRANSITION % {"step": "Ontvangst bevestigen", "state": "ontvangst bevestigd"})]


def test_a_stale_page_gets_the_conflict_message_and_changes_nothing(officer_client, municipality, handler):
    case = CaseFactory()
    case_transition(case_id=case.pk, name="acknowledge", actor=handler)  # a colleague, meanwhile
    response = step(officer_client, case, "resolve_informally", expected_state="received")
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED and case.outcome == ""
    assert shown(response) == [str(errors.CONCURRENT_CHANGE % {"state": "ontvangst bevestigd"})]


def test_a_step_that_is_not_allowed_now_gets_a_dutch_message(officer_client, municipality):
    case = CaseFactory()
    response = step(officer_client, case, "close", outcome="gegrond")
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED
    assert shown(response) == [str(errors.TRANSITION_NOT_ALLOWED % {"state": "ontvangen"})]


def test_a_post_without_the_state_it_was_made_in_is_refused(officer_client, municipality):
    case = CaseFactory()
    response = act(officer_client, case, "transition", {"name": "acknowledge"})
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED
    assert shown(response) == [str(STALE_FORM)]


def test_an_unknown_step_name_is_refused(officer_client, municipality):
    case = CaseFactory()
    response = step(officer_client, case, "delete_everything")
    assert shown(response) == [str(STALE_FORM)]


def test_an_unknown_action_is_a_404(officer_client, municipality):
    case = CaseFactory()
    assert act(officer_client, case, "drop", {"expected_state": case.state}).status_code == 404


def test_a_get_on_an_action_is_refused(officer_client, municipality):
    case = CaseFactory()
    assert officer_client.get(reverse("handvest_workspace:case_action", args=[case.pk, "note"])).status_code == 405


def test_starting_treatment_assigns_the_chosen_officer(officer_client, municipality, handler):
    case = CaseFactory(acknowledged=True)
    colleague = officer("b.bakker")
    step(officer_client, case, "start_treatment", officer=colleague.pk)
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT and case.assigned_to == colleague


def test_starting_treatment_without_an_officer_says_which_field_is_missing(officer_client, municipality):
    case = CaseFactory(acknowledged=True)
    response = step(officer_client, case, "start_treatment")
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert "Behandelaar" in shown(response)[0]


def test_scheduling_a_hearing_records_its_date(officer_client, municipality):
    case = CaseFactory(in_treatment=True)
    on = timezone.localdate() + datetime.timedelta(days=10)
    step(officer_client, case, "schedule_hearing", on=on.isoformat())
    case.refresh_from_db()
    assert case.state == CaseState.HEARING and case.hearing_on == on


@pytest.mark.parametrize("on", ["0001-01-01", "2062-03-01"])
def test_a_hearing_date_before_receipt_or_years_ahead_is_refused(officer_client, municipality, on):
    case = CaseFactory(in_treatment=True)
    response = step(officer_client, case, "schedule_hearing", on=on)
    case.refresh_from_db()
    assert (case.state, case.hearing_on) == (CaseState.IN_TREATMENT, None)
    assert "vanaf de dag van ontvangst en binnen een jaar" in shown(response)[0]


def test_a_hearing_date_that_is_no_date_is_refused(officer_client, municipality):
    case = CaseFactory(in_treatment=True)
    response = step(officer_client, case, "schedule_hearing", on="volgende week")
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert "Datum hoorzitting" in shown(response)[0]


def test_closing_records_the_outcome(officer_client, municipality):
    case = CaseFactory(answered=True)
    step(officer_client, case, "close", outcome="deels_gegrond")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.outcome == "deels_gegrond"


def test_closing_with_an_outcome_that_is_no_judgement_is_refused(officer_client, municipality):
    case = CaseFactory(answered=True)
    response = step(officer_client, case, "close", outcome="ingetrokken")
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED
    assert "Oordeel" in shown(response)[0]


def step_with_letter(client, case, name, **fields):
    """The step with its letter, as 'Met brief…' on the case page sends it: the draft, its places filled in."""
    url = reverse("handvest_workspace:compose", args=[case.pk])
    draft = client.post(url, {"name": name, "expected_state": case.state, **fields}).context["form"].initial
    body = PLACEHOLDER_RE.sub("Wij hebben met de afdeling gesproken.", draft["body_text"])
    return client.post(url, {**draft, **fields, "body_text": body, "action": "send"})


@pytest.mark.parametrize(("name", "fields"), [("answer", {}), ("decline", {"ground": "9:8-1b"}), ("forward", {"to": "Provincie Fryslân"})])
def test_the_steps_the_law_wants_in_writing_go_only_with_their_letter(officer_client, municipality, name, fields, caplog):
    """Awb 9:12 (answer), 9:8 lid 3 (decline) and 2:3 (forward): not without a letter to the complainant."""
    case = CaseFactory(in_treatment=True) if name == "answer" else CaseFactory()
    if name == "answer":
        case_transition(case_id=case.pk, name="schedule_hearing", actor=officer(), on=timezone.localdate())
        case_record_hearing(case_id=case.pk, report="Gehoord.", actor=officer())
        case.refresh_from_db()
    page = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    step_form = page[page.index(f'data-transition="{name}"') :].split("</form>")[0]
    assert "Met brief" in step_form and "Zonder brief" not in step_form
    with caplog.at_level("WARNING"):
        response = step(officer_client, case, name, **fields)
    assert shown(response) == [str(errors.STEP_NEEDS_LETTER % {"step": wf.TRANSITION_LABELS[name]})]
    assert CaseState(Case.objects.get(pk=case.pk).state) == case.state and not OutgoingMessage.objects.filter(case=case).exclude(kind="acknowledgement")


def test_declining_records_the_ground_of_awb_9_8(officer_client, municipality):
    case = CaseFactory()
    step_with_letter(officer_client, case, "decline", ground="9:8-1b")
    case.refresh_from_db()
    assert (case.state, case.decline_ground, case.outcome) == (CaseState.CLOSED, "9:8-1b", "niet_behandeld")
    assert str(DeclineGround.OLDER_THAN_A_YEAR.label) in OutgoingMessage.objects.get(case=case, kind="decline").body_text


def test_declining_after_four_weeks_is_warned_about_and_put_on_record(officer_client, municipality, caplog):
    """Awb 9:8 lid 3: the complainant hears within four weeks of receipt; later is still possible, not unseen."""
    # Four weeks ago today is never late (the term ends today or, rolled past a day off, later); five weeks ago
    # always is, whatever day of the week the test runs (a term ending on a weekend ends on the Monday).
    on_time = CaseFactory(received_on=timezone.localdate() - datetime.timedelta(days=28))
    late = CaseFactory(received_on=timezone.localdate() - datetime.timedelta(days=35))
    for case, warned in ((on_time, False), (late, True)):
        page = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
        assert ("data-late-decline" in page) is warned
    with caplog.at_level("WARNING", logger="cases.workflow.transitions"):
        step_with_letter(officer_client, late, "decline", ground="9:8-1b")
    late.refresh_from_db()
    assert late.state == CaseState.CLOSED  # warned, not refused
    event = CaseEvent.objects.get(case=late, kind=EventKind.TRANSITION, name="decline")
    assert event.data["late"]["due"] == late.decline_due.isoformat() and late.decline_due < timezone.localdate()
    assert any("Awb 9:8 lid 3" in record.getMessage() for record in caplog.records)
    page = officer_client.get(reverse("handvest_workspace:case", args=[late.pk])).content.decode()
    assert "na de termijn van vier weken (Awb 9:8 lid 3)" in page


def test_forwarding_records_the_other_authority(officer_client, municipality):
    case = CaseFactory()
    step_with_letter(officer_client, case, "forward", to="Provincie Fryslân")
    case.refresh_from_db()
    assert (case.state, case.forwarded_to) == (CaseState.CLOSED, "Provincie Fryslân")
    assert "Provincie Fryslân" in OutgoingMessage.objects.get(case=case, kind="forward_notice").body_text


def test_answering_needs_a_hearing_or_a_waiver_first(officer_client, municipality):
    case = CaseFactory(in_treatment=True)
    response = step_with_letter(officer_client, case, "answer")
    case.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT
    assert shown(response) == [str(errors.ANSWER_NEEDS_HEARING)]  # the guard's own reason: what to do first
    act(officer_client, case, "waive_hearing", {"expected_state": case.state, "ground": "afgezien", "reason": "telefonisch gezegd op 3 december"})
    case.refresh_from_db()
    step_with_letter(officer_client, case, "answer")
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED
    assert case.hearing_waiver == "Awb 9:10 lid 2b: de indiener wil niet gehoord worden. telefonisch gezegd op 3 december"


def test_waiving_the_hearing_needs_a_reason(officer_client, municipality):
    case = CaseFactory(in_treatment=True)
    response = act(officer_client, case, "waive_hearing", {"expected_state": case.state, "ground": "afgezien", "reason": ""})
    case.refresh_from_db()
    assert case.hearing_waiver == ""
    assert "Waarom geen hoorzitting?" in shown(response)[0]


@pytest.mark.parametrize("ground", ["", "geen_tijd"])
def test_waiving_the_hearing_needs_one_of_the_three_grounds_of_the_law(officer_client, municipality, ground, caplog):
    """Awb 9:10 lid 2 knows three grounds; 'geen tijd deze maand' is none of them."""
    case = CaseFactory(in_treatment=True)
    response = act(officer_client, case, "waive_hearing", {"expected_state": case.state, "ground": ground, "reason": "Geen tijd deze maand."})
    case.refresh_from_db()
    assert case.hearing_waiver == "" and not case.hearing_done_or_waived()
    assert str(errors.HEARING_NEEDS_GROUND) in shown(response)[0]
    with pytest.raises(ValidationError), caplog.at_level("WARNING"):
        case_waive_hearing(case_id=case.pk, ground="geen_tijd", reason="Geen tijd.", actor=officer())
    assert "hearing waiver on case" in caplog.text


# --- extension, assignment, notes ---------------------------------------------------------------
def test_extending_moves_the_answer_deadline_and_says_until_when(officer_client, municipality, handler):
    case = CaseFactory(acknowledged=True, email="")
    new_due = case.answer_due + datetime.timedelta(weeks=2)
    response = act(officer_client, case, "extend", {"expected_state": case.state, "new_due": new_due.isoformat(), "reason": "advies van de afdeling nodig"})
    case.refresh_from_db()
    assert case.extended_answer_due is not None and case.extended_answer_due >= new_due
    assert case.extension_reason == "advies van de afdeling nodig"
    assert f"{case.extended_answer_due:%d-%m-%Y}" in shown(response)[0]


def test_extending_a_second_time_is_refused_with_the_awb_message(officer_client, municipality):
    case = CaseFactory(acknowledged=True, email="")
    first = case.answer_due + datetime.timedelta(weeks=1)
    act(officer_client, case, "extend", {"expected_state": case.state, "new_due": first.isoformat(), "reason": "eerste keer"})
    case.refresh_from_db()
    extended = case.extended_answer_due
    response = act(
        officer_client, case, "extend", {"expected_state": case.state, "new_due": (first + datetime.timedelta(days=7)).isoformat(), "reason": "nog eens"}
    )
    case.refresh_from_db()
    assert case.extended_answer_due == extended
    assert shown(response)[-1] == str(errors.EXTENSION_TWICE)


def test_a_double_click_on_extend_extends_once_and_says_it_went_well(officer_client, municipality):
    """The second click of a double click finds the term extended by the same officer with the same reason a
    moment ago: one extension, one interim notice, and "verlengd", not the Awb refusal."""
    case = CaseFactory(acknowledged=True, email="")
    data = {"expected_state": case.state, "new_due": (case.answer_due + datetime.timedelta(weeks=1)).isoformat(), "reason": "advies nodig"}
    act(officer_client, case, "extend", data)
    second = act(officer_client, case, "extend", data)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.EXTENDED).count() == 1
    assert OutgoingMessage.objects.filter(case=case, kind="interim_notice").count() == 1
    assert "is verlengd tot" in shown(second)[-1] and str(errors.EXTENSION_TWICE) not in shown(second)


def test_extending_by_more_than_four_weeks_is_refused(officer_client, municipality):
    case = CaseFactory(acknowledged=True, email="")
    response = act(
        officer_client, case, "extend", {"expected_state": case.state, "new_due": (case.answer_due + datetime.timedelta(weeks=6)).isoformat(), "reason": "druk"}
    )
    case.refresh_from_db()
    assert case.extended_answer_due is None
    assert "ten hoogste vier weken" in shown(response)[0]


def test_assigning_an_officer_is_logged_on_the_timeline(officer_client, municipality, handler):
    case = CaseFactory()
    colleague = officer("b.bakker")
    act(officer_client, case, "assign", {"expected_state": case.state, "officer": colleague.pk})
    case.refresh_from_db()
    assert case.assigned_to == colleague
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED, actor=handler).exists()
    act(officer_client, case, "assign", {"expected_state": case.state, "officer": ""})
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_case_cannot_be_assigned_to_an_editor(municipality, handler):
    case = CaseFactory()
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(Exception) as excinfo:
        case_assign(case_id=case.pk, officer_id=editor.pk, actor=handler)
    assert "geen kwaliteitsmedewerker" in str(excinfo.value)
    case.refresh_from_db()
    assert case.assigned_to is None


def test_an_internal_note_lands_on_the_timeline_even_from_an_older_page(officer_client, municipality, handler):
    case = CaseFactory()
    case_transition(case_id=case.pk, name="acknowledge", actor=handler)
    act(officer_client, case, "note", {"text": "Klager teruggebeld", "expected_state": "received"})
    note = CaseEvent.objects.get(case=case, kind=EventKind.NOTE)
    assert note.note == "Klager teruggebeld" and note.internal and note.actor == handler


def test_an_empty_note_is_refused(officer_client, municipality):
    case = CaseFactory()
    response = act(officer_client, case, "note", {"text": "  "})
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).exists()
    assert "Interne notitie" in shown(response)[0]


# --- norms ------------------------------------------------------------------------------------
def test_confirming_and_rejecting_suggested_norms_is_kept_as_training_data(officer_client, harlingen, handler):
    case = CaseFactory()
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.8, "TEL-GROET": 0.4}, suggested=["TEL-25SEC", "TEL-GROET"], model_version="t")
    act(officer_client, case, "tag_confirm", {"expected_state": case.state, "code": "TEL-25SEC"})
    act(officer_client, case, "tag_reject", {"expected_state": case.state, "code": "TEL-GROET"})
    tags = {tag.norm.code: tag for tag in CaseNorm.objects.filter(case=case)}
    assert (tags["TEL-25SEC"].status, tags["TEL-25SEC"].decided_by) == (TagStatus.CONFIRMED, handler)
    assert tags["TEL-GROET"].status == TagStatus.REJECTED
    assert list(CaseEvent.objects.filter(case=case, kind=EventKind.TAG, actor=handler).values_list("name", "note")) == [
        ("confirmed", "TEL-25SEC"),
        ("rejected", "TEL-GROET"),
    ]


def test_an_officer_adds_a_norm_the_tagger_missed(officer_client, harlingen, handler):
    case = CaseFactory()
    act(officer_client, case, "tag_add", {"expected_state": case.state, "code": "BALIE-BEJEGENING"})
    tag = CaseNorm.objects.get(case=case)
    assert (tag.norm.code, tag.status, tag.source) == ("BALIE-BEJEGENING", TagStatus.CONFIRMED, "officer")


def test_adding_an_unknown_norm_is_refused(officer_client, harlingen):
    case = CaseFactory()
    response = act(officer_client, case, "tag_add", {"expected_state": case.state, "code": "BESTAAT-NIET"})
    assert not CaseNorm.objects.filter(case=case).exists()
    assert "Norm toevoegen" in shown(response)[0]


def test_confirming_a_norm_on_a_stale_page_gets_the_conflict_message(officer_client, harlingen, handler):
    case = CaseFactory()
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.8}, suggested=["TEL-25SEC"], model_version="t")
    case_transition(case_id=case.pk, name="acknowledge", actor=handler)
    response = act(officer_client, case, "tag_confirm", {"expected_state": "received", "code": "TEL-25SEC"})
    assert CaseNorm.objects.get(case=case).status == TagStatus.SUGGESTED
    assert shown(response) == [str(errors.CONCURRENT_CHANGE % {"state": "ontvangst bevestigd"})]


# --- merging ------------------------------------------------------------------------------------
def test_merging_a_duplicate_records_it_on_both_timelines(officer_client, municipality, handler):
    target = CaseFactory()
    duplicate = duplicate_of(target)
    response = act(officer_client, duplicate, "merge", {"expected_state": duplicate.state, "into": target.registration.number.lower()})
    duplicate.refresh_from_db()
    assert duplicate.merged_into == target
    assert CaseEvent.objects.filter(case=duplicate, name="merged_into").exists()
    assert CaseEvent.objects.filter(case=target, name="merged_from").exists()
    assert shown(response) == [str(DONE_MERGE % {"number": target.registration.number})]


@pytest.mark.parametrize(
    ("into", "message"),
    [("self", MERGE_SELF), ("HLG-2000-999999", MERGE_UNKNOWN % {"number": "HLG-2000-999999"})],
)
def test_merging_into_itself_or_an_unknown_case_is_refused(officer_client, municipality, into, message):
    case = CaseFactory()
    response = act(officer_client, case, "merge", {"expected_state": case.state, "into": case.registration.number if into == "self" else into})
    case.refresh_from_db()
    assert case.merged_into is None
    assert shown(response) == [str(message)]


def test_merging_into_a_case_that_was_merged_itself_names_the_right_case(officer_client, municipality, handler):
    first = CaseFactory()
    second, third = duplicate_of(first), duplicate_of(first)
    case_merge(case_id=second.pk, into_number=first.registration.number, actor=handler)
    response = act(officer_client, third, "merge", {"expected_state": third.state, "into": second.registration.number})
    third.refresh_from_db()
    assert third.merged_into is None
    assert first.registration.number in shown(response)[0]


def test_merging_into_a_closed_case_is_refused_so_it_cannot_be_destroyed_with_it(officer_client, municipality, handler, caplog):
    """A new complaint merged into an old closed case would go on that case's destruction list at once."""
    old, new = CaseFactory(closed=True), CaseFactory(acknowledged=True)
    with caplog.at_level("WARNING"):
        response = act(officer_client, new, "merge", {"expected_state": new.state, "into": old.registration.number})
    new.refresh_from_db()
    assert new.merged_into is None
    assert shown(response) == [str(MERGE_TARGET_CLOSED % {"number": old.registration.number})]
    assert "merge of" in caplog.text and "is closed" in caplog.text


def test_another_citizens_complaint_is_not_merged_so_each_gets_an_answer(officer_client, municipality, handler, caplog):
    """Awb 9:12: a merged case sends no letter of its own; another citizen's complaint about the same event stays a case."""
    first = CaseFactory(name="Jan de Vries", email="jan@example.nl")
    neighbour = CaseFactory(name="Els Bakker", email="els@example.nl")
    with caplog.at_level("WARNING"):
        response = act(officer_client, neighbour, "merge", {"expected_state": neighbour.state, "into": first.registration.number})
    assert Case.objects.get(pk=neighbour.pk).merged_into is None
    assert shown(response) == [str(MERGE_OTHER_SENDER % {"number": first.registration.number})]
    assert "comes from another sender" in caplog.text
    # The same citizen from a second address (the same name), or by the same address under another name, may be merged.
    for same in (CaseFactory(name="jan  de vries", email="j.devries@werk.nl"), CaseFactory(name="J. de Vries", email="JAN@example.nl")):
        case_merge(case_id=same.pk, into_number=first.registration.number, actor=handler)
        assert Case.objects.get(pk=same.pk).merged_into_id == first.pk


def test_a_merged_case_refuses_further_steps(officer_client, municipality, handler):
    target = CaseFactory()
    duplicate = duplicate_of(target)
    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=handler)
    response = step(officer_client, duplicate, "acknowledge")
    duplicate.refresh_from_db()
    assert duplicate.state == CaseState.RECEIVED
    assert shown(response) == [str(CASE_IS_MERGED % {"number": target.registration.number})]


# --- attachments and the original message ----------------------------------------------------------
def test_an_attachment_is_served_from_private_storage_to_an_officer(officer_client, municipality):
    case = CaseFactory()
    attachment = Attachment(registration=case.registration, filename="foto kapotte stoep.png", content_type="image/png", size=8)
    attachment.file.save("foto.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    response = officer_client.get(reverse("handvest_workspace:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG\r\n\x1a\n"
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert "attachment" in response["Content-Disposition"] and "foto kapotte stoep.png" in response["Content-Disposition"]
    assert "foto kapotte stoep.png" in officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()


def test_an_attachment_whose_file_is_gone_is_a_404_not_a_crash(officer_client, municipality):
    case = CaseFactory()
    attachment = Attachment.objects.create(
        registration=case.registration, filename="weg.pdf", content_type="application/pdf", size=1, file="attachments/weg.pdf"
    )
    assert officer_client.get(reverse("handvest_workspace:attachment", args=[attachment.pk])).status_code == 404


def test_the_original_email_is_served_as_eml(officer_client, municipality):
    case = CaseFactory(channel="email")
    message = InboundMessage(source="eml", registration=case.registration, case=case, outcome="case", subject="Klacht")
    message.raw.save("bericht.eml", ContentFile(b"Subject: Klacht\r\n\r\nTekst"), save=True)
    html = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert reverse("handvest_workspace:original", args=[message.pk]) in html
    response = officer_client.get(reverse("handvest_workspace:original", args=[message.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content).startswith(b"Subject: Klacht")
