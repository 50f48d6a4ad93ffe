"""The officers' inbox and case page in the Wagtail admin: what they list, filter, find and show."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import errors
from cases.calendar import default_calendar
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, CaseState, EventKind
from cases.tagging import tag_confirm, tags_store_suggestions
from cases.workflow.deadlines import deadline_status
from cases.workflow.handling import case_add_note, case_assign, case_merge
from cases.workflow.transitions import case_record_hearing, case_transition
from cases.workspace.case_page import timeline
from cases.workspace.inbox import deadline_badge
from cms.roles import QUALITY_OFFICERS
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

INBOX = reverse("handvest_workspace:inbox")


def case_url(case):
    return reverse("handvest_workspace:case", args=[case.pk])


@pytest.fixture
def handler(db):
    """The conftest's officer, with a full name: the case page shows it."""
    user = officer("a.zijlstra")
    user.first_name, user.last_name = "Anneke", "Zijlstra"
    user.save()
    return user


def numbers(response) -> list[str]:
    """The registration numbers on an inbox page, in the order shown."""
    return [case.registration.number for case, _badge in response.context["rows"]]


def register(subject="Klacht", text="Lange wachttijd", name="Jan de Vries", email="jan@example.nl", channel="web", kind="complaint", received_on=None):
    return CaseFactory(
        kind=kind,
        channel=channel,
        text=text,
        subject=subject,
        name=name,
        email=email,
        address="Voorstraat 1\n8861 BJ Harlingen",
        received_on=received_on or timezone.localdate(),
    )


# --- the inbox -------------------------------------------------------------------------------
def test_inbox_lists_open_cases_with_the_soonest_deadline_first(officer_client, municipality):
    today = timezone.localdate()
    fresh = register(subject="vers", received_on=today)
    old = register(subject="oud", received_on=today - datetime.timedelta(days=20))
    middle = register(subject="midden", received_on=today - datetime.timedelta(days=2))
    response = officer_client.get(INBOX)
    assert response.status_code == 200
    assert numbers(response) == [old.registration.number, middle.registration.number, fresh.registration.number]


def test_inbox_puts_the_longest_waiting_first_among_equal_deadlines(officer_client, municipality):
    """Mail of a Friday and of the Sunday after is due the same day: the Friday's case, created last, comes first."""
    today = timezone.localdate()
    sunday = today - datetime.timedelta(days=(today.weekday() + 1) % 7 or 7)
    sunday_case = register(subject="zondag", received_on=sunday)
    friday_case = register(subject="vrijdag", received_on=sunday - datetime.timedelta(days=2))
    assert friday_case.acknowledgement_due == sunday_case.acknowledgement_due  # the weekend does not count
    assert numbers(officer_client.get(INBOX)) == [friday_case.registration.number, sunday_case.registration.number]


def test_inbox_sorts_acknowledged_cases_by_their_answer_deadline_after_acknowledgements_due(officer_client, municipality, handler):
    today = timezone.localdate()
    acknowledged = CaseFactory(acknowledged=True, received_on=today - datetime.timedelta(days=30), actor=handler)
    received = register(received_on=today)
    # received: acknowledgement due in 4 working days; acknowledged: answer due 6 weeks after day -30, i.e. in 12 days
    assert numbers(officer_client.get(INBOX)) == [received.registration.number, acknowledged.registration.number]


def test_inbox_hides_closed_and_merged_cases_unless_asked(officer_client, municipality, handler):
    open_case = register(subject="open")
    closed = CaseFactory(closed=True, actor=handler)
    duplicate = register(subject="dubbel")
    case_merge(case_id=duplicate.pk, into_number=open_case.registration.number, actor=handler)
    assert numbers(officer_client.get(INBOX)) == [open_case.registration.number]
    assert numbers(officer_client.get(INBOX, {"state": "closed"})) == [closed.registration.number]
    assert numbers(officer_client.get(INBOX, {"state": "merged"})) == [duplicate.registration.number]
    assert set(numbers(officer_client.get(INBOX, {"state": "all"}))) == {c.registration.number for c in (open_case, closed, duplicate)}


def test_inbox_filters_by_state_kind_and_channel(officer_client, municipality, handler):
    complaint = register(channel="email")
    suggestion = register(kind="suggestion", channel="web")
    acknowledged = CaseFactory(acknowledged=True, channel="letter", actor=handler)
    assert numbers(officer_client.get(INBOX, {"kind": "suggestion"})) == [suggestion.registration.number]
    assert numbers(officer_client.get(INBOX, {"channel": "email"})) == [complaint.registration.number]
    assert numbers(officer_client.get(INBOX, {"state": "acknowledged"})) == [acknowledged.registration.number]


def test_inbox_filters_by_norm_but_not_by_a_rejected_one(officer_client, harlingen, handler):
    phone = register(subject="telefoon")
    counter = register(subject="balie")
    rejected = register(subject="afgewezen")
    tags_store_suggestions(case_id=phone.pk, scores={"TEL-25SEC": 0.8}, suggested=["TEL-25SEC"], model_version="t")
    tags_store_suggestions(case_id=counter.pk, scores={"BALIE-WACHTTIJD": 0.7}, suggested=["BALIE-WACHTTIJD"], model_version="t")
    tags_store_suggestions(case_id=rejected.pk, scores={"TEL-25SEC": 0.3}, suggested=["TEL-25SEC"], model_version="t")
    from cases.tagging import tag_reject

    tag_reject(case_id=rejected.pk, code="TEL-25SEC", actor=handler)
    assert numbers(officer_client.get(INBOX, {"norm": "TEL-25SEC"})) == [phone.registration.number]


def test_inbox_filters_overdue_and_soon_by_working_days(officer_client, municipality):
    today = timezone.localdate()
    overdue = register(subject="te laat", received_on=today - datetime.timedelta(days=30))
    soon = register(subject="binnenkort", received_on=today)
    assert numbers(officer_client.get(INBOX, {"deadline": "overdue"})) == [overdue.registration.number]
    assert numbers(officer_client.get(INBOX, {"deadline": "soon"})) == [soon.registration.number]


def test_soon_filter_and_badge_agree_on_every_case(officer_client, municipality):
    today = timezone.localdate()
    cases = [register(subject=f"dag {days}", received_on=today - datetime.timedelta(days=days)) for days in (0, 1, 2, 3, 5, 8, 12)]
    listed = set(numbers(officer_client.get(INBOX, {"deadline": "soon"})))
    for case in cases:
        case.refresh_from_db()
        assert (deadline_status(case, today) == "soon") == (case.registration.number in listed), case.registration.number


def test_inbox_filters_assigned_to_me_and_unassigned(officer_client, municipality, handler):
    mine = register(subject="mijn zaak")
    other = register(subject="collega")
    nobody = register(subject="niemand")
    colleague = officer("b.bakker")
    case_assign(case_id=mine.pk, officer_id=handler.pk, actor=handler)
    case_assign(case_id=other.pk, officer_id=colleague.pk, actor=handler)
    assert numbers(officer_client.get(INBOX, {"assigned": "me"})) == [mine.registration.number]
    assert numbers(officer_client.get(INBOX, {"assigned": "nobody"})) == [nobody.registration.number]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("000002", "second"), ("parkeer", "second"), ("fietsenstalling", "third"), ("Hoekstra", "third"), ("els@voorbeeld", "third")],
)
def test_inbox_searches_number_subject_text_and_sender(officer_client, municipality, query, expected):
    cases = {
        "first": register(subject="Wachttijd", text="Lang gewacht", name="Jan de Vries", email="jan@example.nl"),
        "second": register(subject="Parkeervergunning", text="Aanvraag kwijt", name="Piet Bakker", email="piet@example.nl"),
        "third": register(subject="Onderhoud", text="De fietsenstalling is kapot", name="Els Hoekstra", email="els@voorbeeld.nl"),
    }
    assert numbers(officer_client.get(INBOX, {"q": query})) == [cases[expected].registration.number]


def test_inbox_paginates_and_keeps_the_filters(officer_client, municipality):
    for index in range(12):
        register(subject=f"klacht {index}", text=f"tekst {index}")
    first = officer_client.get(INBOX, {"per_page": 10, "kind": "complaint"})
    second = officer_client.get(INBOX, {"per_page": 10, "kind": "complaint", "p": 2})
    assert len(numbers(first)) == 10 and len(numbers(second)) == 2
    assert not set(numbers(first)) & set(numbers(second))
    assert "kind=complaint" in first.content.decode()  # the page links keep the filter


def test_inbox_ignores_a_filter_value_it_does_not_know(officer_client, municipality):
    case = register()
    response = officer_client.get(INBOX, {"state": "bestaat-niet", "per_page": 7, "norm": "GEEN"})
    assert response.status_code == 200
    assert numbers(response) == [case.registration.number]


def test_inbox_shows_the_deadline_in_words_not_only_in_colour(officer_client, municipality):
    register(received_on=timezone.localdate() - datetime.timedelta(days=30))
    html = officer_client.get(INBOX).content.decode()
    assert "Te laat" in html and "werkdagen te laat" in html


def test_deadline_badge_counts_the_days_late(municipality):
    case = register(received_on=timezone.localdate() - datetime.timedelta(days=30))
    today = timezone.localdate()
    badge = deadline_badge(case, today)
    assert badge.status == "overdue" and badge.text == "Te laat"
    assert badge.days_late == default_calendar().working_days_between(case.acknowledgement_due, today) > 0
    assert deadline_badge(CaseFactory(closed=True), today).text == "Geen termijn"


def test_days_late_are_working_days(municipality):
    # Received Thursday 19 December 2024: the acknowledgement (4 working days) was due on Friday
    # 27 December, after Christmas. On Monday 6 January 2025 that is 5 working days late (30 and
    # 31 December, 2, 3 and 6 January; New Year's Day is a holiday), though 10 calendar days.
    case = register(received_on=datetime.date(2024, 12, 19))
    assert case.acknowledgement_due == datetime.date(2024, 12, 27)
    badge = deadline_badge(case, datetime.date(2025, 1, 6))
    assert badge.status == "overdue" and badge.days_late == 5


# --- the case page ---------------------------------------------------------------------------
def test_case_page_shows_the_message_and_the_sender(officer_client, municipality):
    case = register(subject="Niemand nam op", text="Ik heb drie keer gebeld.", name="Jan de Vries", email="jan@example.nl")
    html = officer_client.get(case_url(case)).content.decode()
    for text in ("Niemand nam op", "Ik heb drie keer gebeld.", "Jan de Vries", "jan@example.nl", case.registration.number):
        assert text in html


def test_case_timeline_shows_messages_steps_tags_and_notes_in_order(officer_client, harlingen, handler):
    case = register()
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.8}, suggested=["TEL-25SEC"], model_version="t")
    case_transition(case_id=case.pk, name="acknowledge", actor=handler)
    tag_confirm(case_id=case.pk, code="TEL-25SEC", actor=handler)
    case_add_note(case_id=case.pk, text="Gebeld met de afdeling", actor=handler)
    CaseEvent.objects.create(case=case, kind=EventKind.MESSAGE_OUT, name="acknowledgement", note="Ontvangstbevestiging", internal=False)
    CaseEvent.objects.create(case=case, kind=EventKind.MESSAGE_IN, name="reply", note="Reactie van de indiener")
    titles = [item.title for item in timeline(case)]
    assert titles == [
        "Geregistreerd",
        "Normen voorgesteld door de tagger",
        "Ontvangst bevestigen",
        "Norm bevestigd",
        "Interne notitie",
        "Brief verstuurd",
        "Bericht ontvangen",
    ]
    html = officer_client.get(case_url(case)).content.decode()
    positions = [html.index(text) for text in ("Geregistreerd", "Normen voorgesteld door de tagger", "Gebeld met de afdeling", "Reactie van de indiener")]
    assert positions == sorted(positions)
    assert "ontvangen → ontvangst bevestigd" in html
    assert "Anneke Zijlstra" in html


def test_case_page_shows_suggested_norms_with_scores_and_the_words_that_weighed_most(officer_client, harlingen):
    case = register()
    tags_store_suggestions(
        case_id=case.pk,
        scores={"TEL-25SEC": 0.83, "TEL-OPENINGSTIJDEN": 0.41},
        suggested=["TEL-25SEC", "TEL-OPENINGSTIJDEN"],
        model_version="t",
        explanations={"TEL-25SEC": ["wachten", "opgenomen"], "TEL-OPENINGSTIJDEN": ["gesloten"]},
    )
    html = officer_client.get(case_url(case)).content.decode()
    assert "score 83%" in html and "score 41%" in html
    assert "wachten" in html and "opgenomen" in html and "gesloten" in html
    assert html.index("TEL-25SEC") < html.index("TEL-OPENINGSTIJDEN")  # highest score first
    assert "Bevestigen" in html and "Afwijzen" in html


def step_buttons(response) -> list[str]:
    return [form.transition for form in response.context["transition_forms"]] + [form.transition for form in response.context["other_endings"]]


def test_case_page_offers_only_the_transitions_allowed_now(officer_client, municipality):
    received = register()
    assert sorted(step_buttons(officer_client.get(case_url(received)))) == sorted(["acknowledge", "resolve_informally", "forward", "decline", "withdraw"])
    html = officer_client.get(case_url(received)).content.decode()
    assert 'data-transition="answer"' not in html and 'data-transition="close"' not in html


def test_case_page_of_a_treated_complaint_offers_hearing_explanation_satisfaction_and_withdrawal(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    assert sorted(step_buttons(officer_client.get(case_url(case)))) == ["explain", "resolve_informally", "schedule_hearing", "withdraw"]


def test_after_an_explanation_both_roads_are_offered_and_the_answer_waits_with_its_reason(officer_client, municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    case_transition(case_id=case.pk, name="explain", actor=handler)
    response = officer_client.get(case_url(case))
    steps = step_buttons(response)
    assert "resolve_informally" in steps and "schedule_hearing" in steps  # satisfied, or heard after all
    assert "answer" not in steps
    html = response.content.decode()
    assert 'data-action="waive_hearing"' in html  # or record why there is no hearing (Awb 9:10 lid 2)
    blocked = dict(response.context["blocked_steps"])
    assert blocked["Antwoord versturen"] == str(errors.ANSWER_NEEDS_HEARING)
    waive = reverse("handvest_workspace:case_action", args=[case.pk, "waive_hearing"])
    officer_client.post(waive, {"expected_state": "explained", "ground": "kennelijk_ongegrond", "reason": "Het voorval is er niet geweest."})
    after = officer_client.get(case_url(case))
    assert "answer" in step_buttons(after) and "Antwoord versturen" not in dict(after.context["blocked_steps"])


def test_a_hearing_that_is_only_planned_does_not_open_the_answer_until_its_day(officer_client, municipality, handler):
    """Awb 9:10: the complainant is heard before the answer; a date in the diary is not a hearing held."""
    case = CaseFactory(in_treatment=True, actor=handler)
    on = timezone.localdate() + datetime.timedelta(days=14)
    case_transition(case_id=case.pk, name="schedule_hearing", actor=handler, on=on)
    response = officer_client.get(case_url(case))
    assert "answer" not in step_buttons(response)
    assert dict(response.context["blocked_steps"])["Antwoord versturen"] == str(errors.ANSWER_NEEDS_HEARING)
    with pytest.raises(WorkflowError):
        case_transition(case_id=case.pk, name="answer", actor=handler)
    assert Case.objects.get(pk=case.pk).state == CaseState.HEARING
    Case.objects.filter(pk=case.pk).update(hearing_on=timezone.localdate())  # the day has come
    response = officer_client.get(case_url(case))
    assert "answer" not in step_buttons(response)  # no report of the hearing yet (Awb 9:10 lid 3)
    assert 'data-action="hearing_report"' in response.content.decode()
    report_url = reverse("handvest_workspace:case_action", args=[case.pk, "hearing_report"])
    officer_client.post(report_url, {"expected_state": "hearing", "report": "  ", "complained_about": ""})
    assert Case.objects.get(pk=case.pk).hearing_report == ""  # an empty report is refused
    officer_client.post(report_url, {"expected_state": "hearing", "report": "Mevrouw vertelde over de balie.", "complained_about": "baliemedewerker"})
    case.refresh_from_db()
    assert (case.hearing_report, case.complained_about) == ("Mevrouw vertelde over de balie.", "baliemedewerker")
    assert "answer" in step_buttons(officer_client.get(case_url(case)))


def test_a_hearing_report_waits_for_the_hearings_day_and_goes_with_the_case_data(municipality, handler):
    case = CaseFactory(in_treatment=True, actor=handler)
    case_transition(case_id=case.pk, name="schedule_hearing", actor=handler, on=timezone.localdate() + datetime.timedelta(days=3))
    with pytest.raises(WorkflowError):
        case_record_hearing(case_id=case.pk, report="Te vroeg", actor=handler)
    with pytest.raises(ValidationError):
        case_record_hearing(case_id=case.pk, report=" ", actor=handler)
    assert Case.objects.get(pk=case.pk).hearing_report == ""
    assert CaseEvent.objects.filter(case=case, name="hearing_report").count() == 0


def test_case_page_of_a_suggestion_offers_the_suggestion_steps(officer_client, municipality, handler):
    case = CaseFactory(suggestion=True, acknowledged=True, actor=handler)
    assert sorted(step_buttons(officer_client.get(case_url(case)))) == ["consider", "respond", "withdraw"]


def test_a_closed_case_offers_no_steps(officer_client, municipality, handler):
    case = CaseFactory(closed=True, actor=handler)
    response = officer_client.get(case_url(case))
    assert step_buttons(response) == []
    assert "Er zijn nu geen stappen mogelijk." in response.content.decode()


def test_a_merged_case_points_to_the_case_that_handles_it_and_offers_no_steps(officer_client, municipality, handler):
    target, duplicate = register(subject="hoofdzaak"), register(subject="dubbel")
    case_merge(case_id=duplicate.pk, into_number=target.registration.number, actor=handler)
    response = officer_client.get(case_url(duplicate))
    assert step_buttons(response) == []
    assert f'samengevoegd met <a href="{case_url(target)}">{target.registration.number}</a>' in response.content.decode()
    assert duplicate.registration.number in officer_client.get(case_url(target)).content.decode()


def test_case_page_offers_extension_only_before_it_was_used(officer_client, municipality, handler):
    case = CaseFactory(acknowledged=True, actor=handler)
    assert officer_client.get(case_url(case)).context["extend_form"] is not None
    from cases.workflow.transitions import case_extend

    case_extend(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(days=7), reason="advies nodig", actor=handler)
    response = officer_client.get(case_url(case))
    assert response.context["extend_form"] is None
    assert "advies nodig" in response.content.decode()


def test_unknown_case_is_a_404(officer_client, municipality):
    assert officer_client.get(reverse("handvest_workspace:case", args=[999999])).status_code == 404


def test_the_assignment_list_offers_only_officers(officer_client, municipality):
    from cms.roles import EDITORS

    UserFactory(username="redacteur", role=EDITORS)
    colleague = UserFactory(username="collega", role=QUALITY_OFFICERS)
    case = register()
    choices = list(officer_client.get(case_url(case)).context["assign_form"].fields["officer"].queryset)
    assert colleague in choices and all(user.username != "redacteur" for user in choices)


def test_case_list_counts_every_case_once_with_several_tags(officer_client, harlingen):
    case = register()
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.8, "TEL-GROET": 0.6}, suggested=["TEL-25SEC", "TEL-GROET"], model_version="t")
    response = officer_client.get(INBOX, {"norm": "TEL-25SEC"})
    assert response.context["paginator"].count == 1
    assert Case.objects.count() == 1
