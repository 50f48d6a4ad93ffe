"""Satisfaction after closure, asked once, and the reopen request of a citizen who was not satisfied."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.conversation import texts
from cases.conversation.figures import satisfaction_figures, waiting_figures
from cases.conversation.reopening import reopen_decide
from cases.conversation.satisfaction import survey_answer, survey_ask, surveys_due, surveys_send
from cases.errors import WorkflowError
from cases.measurements.charter_report import charter_report_build, charter_report_to_data
from cases.models import Case, CaseEvent, CaseNorm, CaseState, LetterKind, OutgoingMessage, ReopenRequest, ReopenStatus, SatisfactionSurvey, TagStatus
from cases.workflow.transitions import case_transition
from cms.models import ServiceNorm
from config.celery import app
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 30)


def closed_on(day: datetime.date, **traits) -> Case:
    case = CaseFactory(closed=True, **traits)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(10))))
    return Case.objects.get(pk=case.pk)


def answered_survey(case, score, reason="Niemand belde mij terug."):
    survey_ask(case_id=case.pk)
    return survey_answer(case_id=case.pk, score=score, reason=reason)


# --- asking once -------------------------------------------------------------------------------------------
def test_a_case_is_asked_after_the_set_number_of_working_days(gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 3
    case = closed_on(MONDAY)
    assert surveys_due(today=datetime.date(2026, 12, 2)) == []  # two working days
    assert surveys_due(today=datetime.date(2026, 12, 3)) == [case.pk]


def test_the_question_goes_once_by_email_whatever_runs_twice(gemeente, settings, django_capture_on_commit_callbacks):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 1
    case = closed_on(MONDAY, email="piet@example.nl")
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_send(today=datetime.date(2026, 12, 1)) == 1
        assert surveys_send(today=datetime.date(2026, 12, 2)) == 0
        survey_ask(case_id=case.pk)  # a retried task
    assert SatisfactionSurvey.objects.filter(case=case).count() == 1
    assert OutgoingMessage.objects.filter(case=case, kind=LetterKind.SATISFACTION).count() == 1


def test_never_asked_without_any_way_to_reach_the_citizen(gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 1
    anonymous = closed_on(MONDAY, email="", address="")
    assert surveys_due(today=datetime.date(2026, 12, 1)) == []
    assert survey_ask(case_id=anonymous.pk) is None and not SatisfactionSurvey.objects.exists()


def test_a_postal_only_citizen_is_asked_on_the_private_page_without_a_letter(client, gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 1
    case = closed_on(MONDAY, by_post=True)
    surveys_send(today=datetime.date(2026, 12, 1))
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.letter is None and not OutgoingMessage.objects.filter(kind=LetterKind.SATISFACTION).exists()
    assert "Bent u tevreden?" in client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


def test_a_withdrawn_case_or_an_open_one_is_never_asked(gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 1
    withdrawn = CaseFactory(in_treatment=True)
    case_transition(case_id=withdrawn.pk, name="withdraw", actor=officer())
    open_case = CaseFactory(in_treatment=True)
    assert survey_ask(case_id=withdrawn.pk) is None and survey_ask(case_id=open_case.pk) is None
    assert surveys_due(today=timezone.localdate() + datetime.timedelta(days=5)) == []


def test_cases_closed_long_ago_are_not_asked_out_of_the_blue(gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 1
    closed_on(datetime.date(2025, 1, 6))
    assert surveys_due(today=MONDAY) == []


def test_zero_days_turns_the_question_off(gemeente, settings):
    settings.HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = 0
    closed_on(MONDAY)
    assert surveys_due(today=datetime.date(2026, 12, 10)) == []


def test_beat_runs_the_survey_on_working_days():
    entry = app.conf.beat_schedule["satisfaction-survey"]
    assert entry["task"] == "cases.satisfaction_survey" and "cases.satisfaction_survey" in app.tasks


# --- answering ---------------------------------------------------------------------------------------------
def test_the_citizen_gives_a_score_on_the_private_page(client, gemeente):
    case = CaseFactory(closed=True)
    survey_ask(case_id=case.pk)
    url = reverse("cases:satisfaction_reply", kwargs={"token": case.public_token})
    assert client.post(url, {"score": "4", "reason": "Snel geholpen."}).status_code == 302
    survey = SatisfactionSurvey.objects.get(case=case)
    assert (survey.score, survey.reason) == (4, "Snel geholpen.")
    assert not ReopenRequest.objects.exists()
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert "Uw cijfer: 4 van 5." in html and "Bent u tevreden?" not in html


def test_a_score_outside_1_to_5_is_refused_and_nothing_is_stored(client, gemeente):
    case = CaseFactory(closed=True)
    survey_ask(case_id=case.pk)
    url = reverse("cases:satisfaction_reply", kwargs={"token": case.public_token})
    response = client.post(url, {"score": "9"})
    assert response.status_code == 400 and str(texts.SATISFACTION_SCORE) in response.content.decode()
    with pytest.raises(ValidationError):
        survey_answer(case_id=case.pk, score=0)
    assert SatisfactionSurvey.objects.get().answered_at is None


def test_the_score_is_given_once(gemeente):
    case = CaseFactory(closed=True)
    answered_survey(case, 5)
    with pytest.raises(WorkflowError, match=str(texts.SATISFACTION_ALREADY)[:20]):
        survey_answer(case_id=case.pk, score=1)
    assert SatisfactionSurvey.objects.get().score == 5 and not ReopenRequest.objects.exists()


def test_a_score_without_being_asked_is_a_404_and_refused(client, gemeente):
    case = CaseFactory(closed=True)
    assert client.post(reverse("cases:satisfaction_reply", kwargs={"token": case.public_token}), {"score": "1"}).status_code == 404
    with pytest.raises(WorkflowError):
        survey_answer(case_id=case.pk, score=1)


# --- not satisfied: reopen or explain --------------------------------------------------------------------
@pytest.mark.parametrize("score", [1, 2])
def test_not_satisfied_creates_a_reopen_request(gemeente, score):
    case = CaseFactory(closed=True)
    answered_survey(case, score)
    request = ReopenRequest.objects.get(case=case)
    assert request.status == ReopenStatus.PENDING
    assert CaseEvent.objects.filter(case=case, name="reopen_requested").exists()


def test_reopening_a_complaint_takes_it_back_to_treatment(gemeente, django_capture_on_commit_callbacks):
    case = CaseFactory(closed=True)
    answered_survey(case, 1)
    request = ReopenRequest.objects.get(case=case)
    with django_capture_on_commit_callbacks(execute=True):
        reopen_decide(case_id=case.pk, request_id=request.pk, reopen=True, explanation="", actor=officer())
    case.refresh_from_db()
    request.refresh_from_db()
    assert case.state == CaseState.IN_TREATMENT and case.outcome == "" and case.closed_at is None
    assert request.status == ReopenStatus.REOPENED and request.decided_by is not None
    assert OutgoingMessage.objects.get(pk=request.letter_id).kind == LetterKind.REOPEN_DECISION
    assert CaseEvent.objects.filter(case=case, name="reopen_complaint", from_state="closed", to_state="in_treatment").exists()


def test_a_reopened_complaint_answered_again_keeps_its_first_answer_for_the_figures(gemeente):
    """The charter's six weeks measure the first answer: a second one after reopening must not make it late."""
    from cases.workflow.transitions import case_transition, case_waive_hearing

    case = CaseFactory(closed=True)
    first = Case.objects.get(pk=case.pk).answered_at
    assert first is not None
    answered_survey(case, 1)
    reopen_decide(case_id=case.pk, request_id=ReopenRequest.objects.get(case=case).pk, reopen=True, explanation="", actor=officer())
    if Case.objects.get(pk=case.pk).hearing_waivable():
        case_waive_hearing(case_id=case.pk, ground="kennelijk_ongegrond", reason="Kennelijk ongegrond", actor=officer())
    case_transition(case_id=case.pk, name="answer", actor=officer())
    again = Case.objects.get(pk=case.pk)
    assert again.state == CaseState.ANSWERED and again.answered_at == first


def test_reopening_a_suggestion_takes_it_back_to_consideration(gemeente):
    case = CaseFactory(suggestion=True, closed=True)
    answered_survey(case, 2)
    reopen_decide(case_id=case.pk, request_id=ReopenRequest.objects.get().pk, reopen=True, explanation="", actor=officer())
    assert Case.objects.get(pk=case.pk).state == CaseState.UNDER_CONSIDERATION


def test_declining_needs_an_explanation_which_the_citizen_gets(gemeente):
    case = CaseFactory(closed=True)
    answered_survey(case, 1)
    request = ReopenRequest.objects.get()
    with pytest.raises(ValidationError, match=str(texts.REOPEN_NEEDS_EXPLANATION)[:20]):
        reopen_decide(case_id=case.pk, request_id=request.pk, reopen=False, explanation=" ", actor=officer())
    assert ReopenRequest.objects.get().status == ReopenStatus.PENDING
    reopen_decide(case_id=case.pk, request_id=request.pk, reopen=False, explanation="Wij hebben alles nagekeken.", actor=officer())
    request.refresh_from_db()
    assert request.status == ReopenStatus.DECLINED and Case.objects.get(pk=case.pk).state == CaseState.CLOSED
    letter = OutgoingMessage.objects.get(pk=request.letter_id)
    assert "Wij hebben alles nagekeken." in letter.body_text and "Nationale ombudsman" in letter.body_text


def test_a_reopen_request_is_decided_once(gemeente):
    case = CaseFactory(closed=True)
    answered_survey(case, 1)
    request = ReopenRequest.objects.get()
    reopen_decide(case_id=case.pk, request_id=request.pk, reopen=False, explanation="Nee.", actor=officer())
    with pytest.raises(WorkflowError, match=str(texts.REOPEN_NOT_PENDING)[:20]):
        reopen_decide(case_id=case.pk, request_id=request.pk, reopen=True, explanation="", actor=officer())
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_only_an_officer_decides(gemeente):
    case = CaseFactory(closed=True)
    answered_survey(case, 1)
    with pytest.raises(PermissionDenied):
        reopen_decide(case_id=case.pk, request_id=ReopenRequest.objects.get().pk, reopen=True, explanation="", actor=UserFactory(username="buiten"))
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_the_officer_decides_from_the_case_page_and_the_queue_shows_it(officer_client, gemeente):
    case = CaseFactory(closed=True)
    answered_survey(case, 2)
    request = ReopenRequest.objects.get()
    assert "Verzoeken om heropening (1)" in officer_client.get(reverse("handvest_conversation:queue")).content.decode()
    detail = officer_client.get(reverse("handvest_workspace:case", args=[case.pk])).content.decode()
    assert "2 van 5" in detail and "Besluit vastleggen" in detail
    officer_client.post(reverse("handvest_conversation:action", args=[case.pk, "reopen"]), {"request": request.pk, "decision": "reopen", "explanation": ""})
    assert Case.objects.get(pk=case.pk).state == CaseState.IN_TREATMENT
    assert "Verzoeken om heropening (0)" in officer_client.get(reverse("handvest_conversation:queue")).content.decode()


# --- figures, without personal data --------------------------------------------------------------------
def test_scores_per_norm_and_kind_carry_no_personal_data(harlingen, settings):
    settings.HANDVEST_SMALL_CELL = 3
    norm = ServiceNorm.objects.get(code="TEL-BEJEGENING")
    names = []
    for score in (1, 4, 5):
        case = CaseFactory(closed=True, name=f"Jantje Geheim{score}", email=f"geheim{score}@example.nl")
        CaseNorm.objects.create(case=case, norm=norm, status=TagStatus.CONFIRMED)
        answered_survey(case, score, reason=f"Persoonlijk verhaal {score}")
        names.append(case.registration.number)
    suggestion = CaseFactory(suggestion=True, closed=True)
    answered_survey(suggestion, 5)
    figures = satisfaction_figures(year=timezone.localdate().year)
    assert {"code": "TEL-BEJEGENING", "kind": "complaint", "answered": 3, "average": 3.3, "not_satisfied": "<3"} in figures["by_norm"]
    assert {"kind": "suggestion", "answered": "<3", "average": None, "not_satisfied": None} in figures["by_kind"]
    text = repr(figures) + repr(waiting_figures(year=timezone.localdate().year))
    for secret in ("Jantje", "geheim", "Persoonlijk", "example.nl", *names):
        assert secret not in text


def test_the_charter_report_carries_satisfaction_per_norm_without_personal_data(harlingen, settings):
    settings.HANDVEST_SMALL_CELL = 2
    norm = ServiceNorm.objects.get(code="TEL-BEJEGENING")
    for score in (2, 4):
        case = CaseFactory(closed=True, name="Jantje Geheim", email="geheim@example.nl")
        CaseNorm.objects.create(case=case, norm=norm, status=TagStatus.CONFIRMED)
        answered_survey(case, score, reason="Persoonlijk verhaal")
    year = timezone.localdate().year
    data = charter_report_to_data(charter_report_build(year=year))
    by_code = {row["code"]: row["satisfaction"] for row in data["norms"]}
    assert by_code["TEL-BEJEGENING"] == {"answered": 2, "average": 3.0, "not_satisfied": "<2"}
    assert by_code["TEL-25SEC"] is None
    assert "Jantje" not in repr(data) and "geheim@" not in repr(data) and "Persoonlijk" not in repr(data)


def test_the_annual_report_and_the_editors_panel_show_satisfaction_per_norm_without_personal_data(client, harlingen, settings):
    from django.urls import reverse

    from cases.reporting.report import report_build, report_to_csv, report_to_data
    from cms.roles import EDITORS

    settings.HANDVEST_SMALL_CELL = 2
    norm = ServiceNorm.objects.get(code="TEL-BEJEGENING")
    for score in (1, 2, 5):
        case = CaseFactory(closed=True, name="Jantje Geheim", email="geheim@example.nl")
        CaseNorm.objects.create(case=case, norm=norm, status=TagStatus.CONFIRMED)
        answered_survey(case, score, reason="Persoonlijk verhaal over mijn buren")
    year = timezone.localdate().year
    report = report_build(year=year)
    data = report_to_data(report)
    (section,) = [section for section in data["sections"] if section["key"] == "satisfaction"]
    rows = {row["key"]: row["values"] for row in section["rows"]}
    assert rows["complaint"] == {"answered": 3, "average": 2.7, "not_satisfied": 2}
    assert rows["TEL-BEJEGENING:complaint"] == {"answered": 3, "average": 2.7, "not_satisfied": 2}
    published = repr(data) + report_to_csv(report)
    editor = UserFactory(username="redacteur", role=EDITORS)
    client.force_login(editor)
    panel = client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode()
    assert "Tevredenheid na afloop" in panel and ("2,7" in panel or "2.7" in panel)
    for secret in ("Jantje", "Geheim", "geheim@", "Persoonlijk", "buren"):
        assert secret not in published and secret not in panel


def test_a_reopened_complaint_gets_a_new_answer_term_and_keeps_the_original_for_the_figures(gemeente, django_capture_on_commit_callbacks):
    from cases.calendar import default_calendar
    from cases.workflow.deadlines import deadline_status

    received = timezone.localdate() - datetime.timedelta(days=120)
    case = CaseFactory(closed=True, received_on=received)
    original_due = case.answer_due
    assert original_due < timezone.localdate()
    answered_survey(case, 1)
    with django_capture_on_commit_callbacks(execute=True):
        reopen_decide(case_id=case.pk, request_id=ReopenRequest.objects.get().pk, reopen=True, explanation="", actor=officer())
    case.refresh_from_db()
    new_due = default_calendar().add_weeks(timezone.localdate(), 6)
    assert case.answer_due == original_due and case.reopened_answer_due == new_due
    assert case.next_deadline() == ("answer", new_due)
    assert deadline_status(case) == "ok"  # not overdue the moment it is reopened
    assert Case.objects.with_next_due().get(pk=case.pk).next_due == new_due  # the inbox's SQL says the same
    event = CaseEvent.objects.get(case=case, name="reopen_complaint")
    assert f"{new_due:%d-%m-%Y}" in event.note
    letter = OutgoingMessage.objects.get(case=case, kind=LetterKind.REOPEN_DECISION)
    assert f"uiterlijk {new_due.day} " in letter.body_text


def test_the_latest_term_counts_also_when_a_reopened_case_is_extended_afterwards(gemeente):
    case = CaseFactory(closed=True, received_on=timezone.localdate() - datetime.timedelta(days=120))
    case.reopened_answer_due = timezone.localdate() + datetime.timedelta(days=20)
    case.extended_answer_due = timezone.localdate() + datetime.timedelta(days=40)
    case.save()
    assert case.effective_answer_due == case.extended_answer_due
    assert Case.objects.with_next_due().filter(pk=case.pk).values_list("next_due", flat=True).get() is None  # closed: nothing due
    Case.objects.filter(pk=case.pk).update(extended_answer_due=None)
    case.refresh_from_db()
    assert case.effective_answer_due == case.reopened_answer_due
