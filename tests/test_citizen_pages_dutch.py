"""Citizen pages are always Dutch, whatever language the browser asks for."""

import datetime

import pytest
from django.urls import reverse

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
