"""Staff login (BIO 5.17): the password alone opens nothing; a second factor (app code, recovery code,
passkey, or a single sign-on whose provider enforces one) is asked on every admin page; failed
logins are throttled."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.oidc import StaffOIDCBackend
from accounts.second_factor import SSO_SESSION_KEY, new_recovery_codes
from tests.factories import CaseFactory, officer

PASSWORD = "geheim-wachtwoord-123"
LOGIN = "/beheer/login/"


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.HANDVEST_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def staff(db):
    return officer("j.devries")


def app_code(device: TOTPDevice) -> str:
    """The code the staff member's phone shows now."""
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)).zfill(device.digits)


@pytest.fixture
def enrolled(staff):
    return TOTPDevice.objects.create(user=staff, name="app", confirmed=True)


def password_login(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD, "next": "/beheer/"})
    assert response.status_code == 302, "the password itself is right"
    return response


def test_password_alone_opens_no_admin_page(client, enrolled, harlingen):
    case = CaseFactory(name="Marieke Zwart-Hoekstra")
    password_login(client, enrolled.user)
    for path in ("/beheer/", "/beheer/zaken/", reverse("handvest_workspace:case", args=[case.pk]), "/beheer/triage/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:verify"))
        assert b"Zwart-Hoekstra" not in response.content


def test_a_script_request_is_refused_not_sent_on_so_it_cannot_become_the_page_to_return_to(client, enrolled):
    password_login(client, enrolled.user)
    fetched = client.get("/beheer/zaken/", headers={"Sec-Fetch-Mode": "cors"})
    assert fetched.status_code == 403 and "tweede stap" in fetched.content.decode()
    assert client.get("/beheer/sprite/", headers={"Sec-Fetch-Mode": "cors"}).status_code == 200


def test_a_wrong_code_is_refused_with_a_dutch_message_and_a_log_line(client, enrolled, caplog):
    password_login(client, enrolled.user)
    with caplog.at_level(logging.WARNING, logger="handvest.security"):
        response = client.post(reverse("accounts:verify"), {"code": "000000", "next": "/beheer/zaken/"})
    assert response.status_code == 400
    assert "Deze code klopt niet" in response.content.decode()
    assert "second factor refused for user j.devries" in caplog.text
    assert client.get("/beheer/zaken/").status_code == 302


def test_the_app_code_opens_the_admin_and_returns_to_the_page_asked(client, enrolled):
    password_login(client, enrolled.user)
    response = client.post(reverse("accounts:verify"), {"code": app_code(enrolled), "next": "/beheer/zaken/"})
    assert response.status_code == 302 and response["Location"] == "/beheer/zaken/"
    assert client.get("/beheer/zaken/").status_code == 200


def test_guessing_is_throttled_after_a_wrong_code_even_the_right_code_waits(client, enrolled, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    password_login(client, enrolled.user)
    client.post(reverse("accounts:verify"), {"code": "123456"})
    response = client.post(reverse("accounts:verify"), {"code": app_code(enrolled)})
    assert response.status_code == 400
    enrolled.refresh_from_db()
    assert enrolled.throttling_failure_count >= 1


def test_a_recovery_code_works_once(client, enrolled):
    codes = new_recovery_codes(enrolled.user)
    assert len(codes) == len(set(codes)) == 10
    password_login(client, enrolled.user)
    assert client.post(reverse("accounts:verify"), {"code": codes[0].upper()})["Location"] == "/beheer/"
    assert StaticToken.objects.filter(token=codes[0]).count() == 0
    client.logout()
    password_login(client, enrolled.user)
    assert client.post(reverse("accounts:verify"), {"code": codes[0]}).status_code == 400


def test_open_redirects_are_refused_after_the_second_factor(client, enrolled):
    password_login(client, enrolled.user)
    response = client.post(reverse("accounts:verify"), {"code": app_code(enrolled), "next": "https://evil.example/"})
    assert response["Location"] == "/beheer/"


def test_a_new_staff_member_sets_up_an_app_and_gets_recovery_codes(client, staff):
    password_login(client, staff)
    response = client.get("/beheer/")
    assert response["Location"].startswith(reverse("accounts:setup"))
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert client.post(reverse("accounts:setup"), {"code": "000000"}).status_code == 400
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    done = client.post(reverse("accounts:setup"), {"code": app_code(device), "next": "/beheer/zaken/"})
    assert done.status_code == 200
    assert done.content.decode().count("<li><code>") == 10
    assert client.get("/beheer/zaken/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_stolen_password_cannot_add_a_second_factor(client, enrolled):
    """Someone with the password but not the phone is sent to prove the existing factor first."""
    password_login(client, enrolled.user)
    response = client.get(reverse("accounts:setup"))
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert not TOTPDevice.objects.filter(user=enrolled.user, confirmed=False).exists()
    registration = client.post(reverse("otp_webauthn:credential-registration-begin"), content_type="application/json")
    assert registration.status_code == 403


def test_overview_lists_the_factors_and_makes_new_recovery_codes(client, enrolled):
    old = new_recovery_codes(enrolled.user)
    password_login(client, enrolled.user)
    client.post(reverse("accounts:verify"), {"code": app_code(enrolled)})
    page = client.get(reverse("accounts:overview")).content.decode()
    assert "Authenticator-app" in page and "Herstelcodes over: 10" in page
    client.post(reverse("accounts:recovery_codes"))
    assert not StaticToken.objects.filter(token__in=old).exists()


# --- lockout (django-axes) ---------------------------------------------------------------------
def test_five_wrong_passwords_lock_that_username_from_that_address(client, staff, db):
    other = officer("p.bakker")
    for _ in range(4):
        assert client.post(LOGIN, {"username": staff.username, "password": "fout"}).status_code == 200
    assert client.post(LOGIN, {"username": staff.username, "password": "fout"}).status_code == 429
    locked = client.post(LOGIN, {"username": staff.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Inloggen tijdelijk geblokkeerd" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # A colleague at the same desk is not locked out by it.
    assert client.post(LOGIN, {"username": other.username, "password": PASSWORD}).status_code == 302


# --- single sign-on ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("claims", "found"),
    [
        ({"email": "J.DeVries@example.invalid", "email_verified": True}, True),
        ({"email": "j.devries@example.invalid"}, True),
        ({"email": "j.devries@example.invalid", "email_verified": False}, False),
        ({"email": "someone.else@example.invalid"}, False),
        ({}, False),
    ],
)
def test_single_sign_on_finds_only_an_existing_active_account(staff, claims, found):
    assert StaffOIDCBackend().filter_users_by_claims(claims).exists() is found


def test_single_sign_on_creates_no_accounts(settings, db):
    assert settings.OIDC_CREATE_USER is False
    get_user_model().objects.create_user("ex", email="ex@example.invalid", is_active=False)
    assert not StaffOIDCBackend().filter_users_by_claims({"email": "ex@example.invalid"}).exists()


@pytest.mark.parametrize(("trusted", "status"), [(True, 200), (False, 302)])
def test_a_single_sign_on_session_counts_as_two_factor_only_when_the_provider_is_trusted(client, settings, enrolled, trusted, status):
    settings.HANDVEST_OIDC_TRUSTS_PROVIDER_MFA = trusted
    client.force_login(enrolled.user)
    session = client.session
    session[SSO_SESSION_KEY] = True
    session.save()
    assert client.get("/beheer/zaken/").status_code == status


def test_switching_off_the_second_factor_is_refused_in_production(tmp_path):
    from tests.test_deploy_settings import run_settings

    result = run_settings(tmp_path, {"HANDVEST_TWO_FACTOR_REQUIRED": "false"})
    assert result.returncode != 0
    assert "HANDVEST_TWO_FACTOR_REQUIRED=false is for local demo users only" in result.stderr
