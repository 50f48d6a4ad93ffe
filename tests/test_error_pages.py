"""Citizens see Dutch error pages: an unknown address, an expired form, a server error."""

import logging

import pytest
from django.test import Client, RequestFactory
from django.views import defaults

from cases.models import Case

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gives_a_dutch_404_with_the_contact_block(client, municipality):
    response = client.get("/bestaat-echt-niet/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in html and 'lang="nl"' in html
    assert municipality.name in html  # the site's header and contact block, not a bare page


def test_a_form_posted_without_its_csrf_token_gets_a_dutch_page_and_a_log_line(municipality, caplog):
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="handvest.security"):
        response = client.post("/melding/", {"message": "De balie was dicht.", "name": "An"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Uw formulier kon niet worden verstuurd" in html and "niet dubbel" in html
    assert "CSRF verification failed" not in html
    assert any("CSRF check failed for POST /melding/" in record.getMessage() for record in caplog.records)
    assert not Case.objects.exists()


@pytest.mark.parametrize(("view", "status", "words"), [(defaults.server_error, 500, "Er ging bij ons iets mis"), (defaults.bad_request, 400, "niet verwerken")])
def test_pages_rendered_without_a_request_context_are_dutch_too(view, status, words):
    request = RequestFactory().get("/")
    response = view(request) if view is defaults.server_error else view(request, exception=ValueError("kapot"))
    assert response.status_code == status
    assert words in response.content.decode()
