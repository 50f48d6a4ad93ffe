"""The ombudsman stage (Awb 9:18): where to go next in the answer letter and on the private page,
and the officer's record of the referral, the findings and the measures (retention moves with it)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.conversation import texts
from cases.conversation.ombudsman import ombudsman_findings, ombudsman_record
from cases.correspondence.composing import letter_compose
from cases.correspondence.steps import case_step_with_letter
from cases.errors import WorkflowError
from cases.models import CaseRecord, OmbudsmanReferral, OmbudsmanSettings
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


def own_ombudsman():
    settings = OmbudsmanSettings.load()
    settings.ombudsman = "municipal"
    settings.own_name = "de Ombudsman Harlingen"
    settings.own_website = "https://ombudsman.harlingen.nl"
    settings.save()
    return settings


def test_the_answer_letter_names_the_nationale_ombudsman_by_default(gemeente):
    case = CaseFactory(explained=True)
    body = letter_compose(case=case, kind="answer").body_text
    assert "Nationale ombudsman" in body and "0800 33 55 555" in body


def test_the_answer_letter_names_the_municipalitys_own_ombudsman_when_set(gemeente):
    own_ombudsman()
    case = CaseFactory(explained=True)
    draft = letter_compose(case=case, kind="answer", findings="Nagekeken.", judgement="Gegrond.", conclusions="Excuses.")
    assert "de Ombudsman Harlingen" in draft.body_text and "Nationale ombudsman" not in draft.body_text
    # the outbox's check of Awb 9:12 lid 2 accepts the municipality's own ombudsman (the letter goes with its step)
    _case, letter = case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())
    assert letter.pk


def test_a_changed_ombudsman_is_in_the_next_letter_at_once_though_the_setting_is_kept_a_minute(gemeente):
    case = CaseFactory(explained=True)
    assert "Nationale ombudsman" in letter_compose(case=case, kind="answer").body_text  # now kept a minute
    own_ombudsman()
    body = letter_compose(case=case, kind="answer").body_text
    assert "de Ombudsman Harlingen" in body and "Nationale ombudsman" not in body


def test_a_municipal_ombudsman_needs_a_name(gemeente):
    settings = OmbudsmanSettings.load()
    settings.ombudsman = "municipal"
    with pytest.raises(ValidationError):
        settings.full_clean()


def test_the_private_page_says_where_to_go_after_the_answer(client, gemeente):
    case = CaseFactory(closed=True)
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Niet eens met ons antwoord?" in html and "Nationale ombudsman" in html
    open_case = CaseFactory(in_treatment=True)
    assert "Niet eens met ons antwoord?" not in client.get(reverse("cases:case_status", kwargs={"token": open_case.public_token})).content.decode()


def test_recording_the_ombudsman_moves_the_retention_term_and_holds_the_case(gemeente):
    case = CaseFactory(closed=True)
    before = CaseRecord.objects.get(case=case)
    referral = ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate(), actor=officer())
    record = CaseRecord.objects.get(case=case)
    assert referral.ombudsman == "national" and record.hold == "ombudsman" and record.ombudsman_on == timezone.localdate()
    assert record.result_type_id != before.result_type_id and record.destroy_on > before.destroy_on


def test_findings_and_measures_are_recorded(gemeente):
    case = CaseFactory(closed=True)
    ombudsman_record(case_id=case.pk, ombudsman="municipal", submitted_on=timezone.localdate(), actor=officer())
    ombudsman_findings(
        case_id=case.pk, findings="De klacht is terecht.", measures="Werkinstructie aangepast.", findings_on=timezone.localdate(), actor=officer()
    )
    referral = OmbudsmanReferral.objects.get(case=case)
    assert (referral.findings, referral.measures) == ("De klacht is terecht.", "Werkinstructie aangepast.")


def test_an_open_complaint_cannot_go_to_the_ombudsman_yet(gemeente):
    case = CaseFactory(in_treatment=True)
    with pytest.raises(WorkflowError, match=str(texts.OMBUDSMAN_NOT_ANSWERED)[:20]):
        ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate(), actor=officer())
    assert not OmbudsmanReferral.objects.exists()


def test_a_suggestion_does_not_go_to_the_ombudsman(gemeente):
    case = CaseFactory(suggestion=True, closed=True)
    with pytest.raises(WorkflowError, match="klacht"):
        ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate(), actor=officer())
    assert not OmbudsmanReferral.objects.exists()


def test_bad_dates_and_an_unknown_ombudsman_are_refused_and_nothing_changes(gemeente):
    case = CaseFactory(closed=True)
    with pytest.raises(ValidationError):
        ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate() + datetime.timedelta(days=1), actor=officer())
    with pytest.raises(ValidationError):
        ombudsman_record(case_id=case.pk, ombudsman="rechter", submitted_on=timezone.localdate(), actor=officer())
    with pytest.raises(ValidationError):  # before the case closed (the records' own check)
        ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate() - datetime.timedelta(days=30), actor=officer())
    assert not OmbudsmanReferral.objects.exists() and CaseRecord.objects.get(case=case).hold == ""


def test_findings_need_a_referral_first(gemeente):
    case = CaseFactory(closed=True)
    with pytest.raises(WorkflowError, match=str(texts.OMBUDSMAN_NOT_RECORDED)[:20]):
        ombudsman_findings(case_id=case.pk, findings="x", measures="", findings_on=None, actor=officer())


def test_only_an_officer_records_the_ombudsman(gemeente):
    case = CaseFactory(closed=True)
    with pytest.raises(PermissionDenied):
        ombudsman_record(case_id=case.pk, ombudsman="national", submitted_on=timezone.localdate(), actor=UserFactory(username="buiten"))
    assert not OmbudsmanReferral.objects.exists()


def test_the_officer_records_it_from_the_case_page(officer_client, gemeente):
    case = CaseFactory(closed=True)
    assert "De indiener ging naar de ombudsman" in officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    url = reverse("handvest_conversation:action", args=[case.pk, "ombudsman"])
    officer_client.post(url, {"ombudsman": "national", "submitted_on": timezone.localdate().isoformat(), "note": ""})
    assert OmbudsmanReferral.objects.filter(case=case).exists()
    officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "findings"]), {"findings": "Terecht.", "measures": "Excuses."})
    assert "Terecht." in officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
