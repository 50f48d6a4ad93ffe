"""The Wagtail dashboard shows each role its own work, with counts that link to the lists."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.intake.email import email_intake
from cases.models import Case
from cases.workflow.handling import case_assign
from cms.roles import EDITORS, MAILROOM
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def figures(client) -> dict[str, int]:
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    panel = next((panel for panel in response.context["panels"] if getattr(panel, "name", "") == "handvest_work"), None)
    if panel is None:
        return {}
    context = panel.get_context_data({"request": response.wsgi_request})
    return {str(figure["label"]): figure["count"] for figure in context["figures"]}


def test_an_officer_sees_their_cases_due_this_week_what_is_overdue_and_the_unassigned(officer_client, handler, municipality):
    today = timezone.localdate()
    due_soon = CaseFactory(acknowledged=True)
    Case.objects.filter(pk=due_soon.pk).update(answer_due=today)  # its answer is due today
    case_assign(case_id=due_soon.pk, officer_id=handler.pk, actor=handler)
    CaseFactory(received_on=today - datetime.timedelta(days=20))  # acknowledgement overdue, nobody assigned
    seen = figures(officer_client)
    assert seen["Mijn zaken met een termijn binnen 5 werkdagen"] == 1
    assert seen["Zaken te laat"] == 1
    assert seen["Zaken zonder behandelaar"] == 1


def test_my_cases_due_soon_count_what_the_inbox_lists_behind_the_link(officer_client, handler, municipality):
    """On a Thursday a case due next Tuesday is within five working days: counted, and listed behind the link."""
    from cases.workflow.deadlines import due_soon_limit

    today = timezone.localdate()
    due = CaseFactory(acknowledged=True)
    last_soon = due_soon_limit(today) - datetime.timedelta(days=1)  # the last day that is still 'soon'
    Case.objects.filter(pk=due.pk).update(answer_due=last_soon)
    case_assign(case_id=due.pk, officer_id=handler.pk, actor=handler)
    later = CaseFactory(acknowledged=True)
    Case.objects.filter(pk=later.pk).update(answer_due=due_soon_limit(today))
    case_assign(case_id=later.pk, officer_id=handler.pk, actor=handler)
    assert figures(officer_client)["Mijn zaken met een termijn binnen 5 werkdagen"] == 1
    listed = officer_client.get(reverse("handvest_workspace:inbox"), {"assigned": "me", "deadline": "soon"}).content.decode()
    assert due.registration.number in listed and later.registration.number not in listed


def test_the_mailroom_sees_letters_to_print_and_mail_in_quarantine(client, municipality):
    case = CaseFactory(email="")
    assert outgoing_send(outgoing_id=acknowledgement_queue(case_id=case.pk).pk) == "to_print"
    email_intake(raw=b"", source="eml")  # no e-mail at all: waits for a person
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    assert figures(client) == {"Brieven te printen of te posten": 1, "E-mail in quarantaine": 1}


def test_an_editor_sees_no_case_work(client, municipality):
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    assert figures(client) == {}
