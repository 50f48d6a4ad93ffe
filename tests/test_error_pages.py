"""Citizens see Dutch error pages: an unknown address, an expired form, a server error."""

import logging

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.views import defaults

from cases.models import Case
from config.errors import server_error

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


def test_the_server_error_page_gives_the_phone_number_and_e_mail_address(municipality):
    municipality.phone, municipality.complaint_email = "14 0517", "klachten@harlingen.nl"
    municipality.save()
    response = server_error(RequestFactory().get("/melding/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'href="tel:140517"' in html and "klachten@harlingen.nl" in html and municipality.name in html


def test_the_server_error_page_goes_without_the_contact_block_when_the_database_fails(monkeypatch, caplog):
    # Nothing kept in this process, and the settings cannot be read: the page still comes, in Dutch.
    from cms.kept import forget
    from cms.models import MunicipalitySettings

    forget()

    def broken(cls):
        raise OperationalError("connection refused")

    monkeypatch.setattr(MunicipalitySettings, "load", classmethod(broken))
    with caplog.at_level(logging.WARNING, logger="handvest.errors"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Er ging bij ons iets mis" in response.content.decode() and "tel:" not in response.content.decode()
    assert any("without the contact block" in record.getMessage() for record in caplog.records)


def test_django_uses_our_server_error_page():
    from config import urls

    assert urls.handler500 == "config.errors.server_error"
