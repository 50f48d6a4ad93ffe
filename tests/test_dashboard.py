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
    assert seen["Mijn zaken met een termijn deze week"] == 1
    assert seen["Zaken te laat"] == 1
    assert seen["Zaken zonder behandelaar"] == 1


def test_the_mailroom_sees_letters_to_print_and_mail_in_quarantine(client, municipality):
    case = CaseFactory(email="")
    assert outgoing_send(outgoing_id=acknowledgement_queue(case_id=case.pk).pk) == "to_print"
    email_intake(raw=b"", source="eml")  # no e-mail at all: waits for a person
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    assert figures(client) == {"Brieven te printen of te posten": 1, "E-mail in quarantaine": 1}


def test_an_editor_sees_no_case_work(client, municipality):
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    assert figures(client) == {}
