import pytest
from django.urls import reverse

from cases.models import CaseEvent, EventKind
from cases.workflow.handling import case_add_note
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db


def url(case):
    return reverse("cases:case_status", kwargs={"token": case.public_token})


def test_token_has_at_least_128_bits_and_differs_per_case(municipality):
    first, second = CaseFactory(), CaseFactory()
    # token_urlsafe(32): 32 random bytes = 256 bits, 43 base64url characters
    assert len(first.public_token) >= 43
    assert first.public_token != second.public_token


def test_private_page_shows_number_date_state_and_deadline(client, municipality):
    case = CaseFactory(acknowledged=True)
    html = client.get(url(case)).content.decode()
    assert case.registration.number in html
    assert "Ontvangen op" in html and "Antwoord uiterlijk" in html
    assert "ontvangst bevestigd" in html.lower()
    assert '<html lang="nl">' in html


def test_private_page_never_shows_internal_notes_or_officer_names(client, municipality):
    handler = officer("a.devries")
    handler.first_name, handler.last_name = "Anneke", "Zijlstra"
    handler.save()
    case = CaseFactory(in_treatment=True, actor=handler)
    case_add_note(case_id=case.pk, text="GEHEIM: klager is lastig", actor=handler)
    html = client.get(url(case)).content.decode()
    assert "GEHEIM" not in html
    assert "Zijlstra" not in html and "a.devries" not in html


def test_private_page_lists_letters_sent(client, municipality):
    case = CaseFactory()
    CaseEvent.objects.create(case=case, kind=EventKind.MESSAGE_OUT, name="acknowledgement", note="Ontvangstbevestiging", internal=False)
    html = client.get(url(case)).content.decode()
    assert "Ontvangstbevestiging" in html


def test_unknown_token_is_a_plain_404(client, municipality):
    CaseFactory()
    response = client.get(reverse("cases:case_status", kwargs={"token": "x" * 43}))
    assert response.status_code == 404


def test_revoked_token_is_a_404(client, municipality):
    case = CaseFactory()
    case.public_token_revoked = True
    case.save(update_fields=["public_token_revoked"])
    assert client.get(url(case)).status_code == 404


def test_private_page_is_not_cached_or_indexed(client, municipality):
    response = client.get(url(CaseFactory()))
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
