"""Citizen pages are always Dutch, whatever language the browser asks for."""

import datetime

import pytest
from django.urls import reverse

from cases.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "de-DE", "fr"])
def test_the_private_page_shows_dutch_month_names_to_an_english_browser(client, municipality, accept):
    case = CaseFactory(received_on=datetime.date(2026, 3, 2))
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token}), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert "2 maart 2026" in html and "March" not in html
    assert '<html lang="nl"' in html


def test_the_web_form_is_dutch_for_an_english_browser(client, municipality):
    html = client.get("/melding/", HTTP_ACCEPT_LANGUAGE="en-GB,en").content.decode()
    assert '<html lang="nl"' in html and "Beschrijf uw klacht of suggestie" in html


@pytest.mark.parametrize(
    ("state", "outcome", "label"),
    [
        ("closed", "doorgezonden", "Doorgestuurd naar de organisatie die erover gaat"),
        ("closed", "niet_behandeld", "Niet in behandeling genomen"),
        ("closed", "informeel_opgelost", "Opgelost in overleg met u"),
        ("hearing", "", "Gesprek gepland"),
    ],
)
def test_the_private_page_names_the_state_and_outcome_without_the_officers_article_numbers(client, municipality, state, outcome, label):
    case = CaseFactory()
    Case.objects.filter(pk=case.pk).update(state=state, outcome=outcome)  # how it got there does not matter here
    html = client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()
    assert label in html
    assert "Awb" not in html and "hoorzitting" not in html
