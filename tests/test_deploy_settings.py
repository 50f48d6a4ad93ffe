"""Production settings: `check --deploy` is clean, the development key is refused, and every page
carries a Content-Security-Policy (strict for citizens, with inline styles only for Wagtail's admin)
and a trace id."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x7Kq-2vR9pL0mZ4tY8wN1cB6jH3sD5fG7aQ9eU2iO4rT6yP8lK0nM1bV3cX5zW7s",
    "DJANGO_ALLOWED_HOSTS": "handvest.harlingen.nl",
    "HANDVEST_BASE_URL": "https://handvest.harlingen.nl",
}


def run_settings(tmp_path, extra: dict, *args: str) -> subprocess.CompletedProcess:
    """``manage.py`` (``check`` unless ``args`` say otherwise) in a fresh process with production settings plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "HANDVEST_"))}
    env.update(PRODUCTION, HANDVEST_VAR_DIR=str(tmp_path), **extra)
    return subprocess.run([sys.executable, "manage.py", *(args or ("check",))], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = run_settings(tmp_path, {}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_see_a_missing_hsts(tmp_path):
    """The check itself is awake: with HSTS switched off by environment it complains."""
    result = run_settings(tmp_path, {"DJANGO_SECURE_HSTS_SECONDS": "0"}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


@pytest.mark.parametrize("key", ["dev-only-insecure-key-change-me-in-production-0123456789", "short-key"])
def test_the_development_key_is_refused_when_debug_is_off(tmp_path, key):
    result = run_settings(tmp_path, {"DJANGO_SECRET_KEY": key})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is the development key (or shorter than 50 characters) while DJANGO_DEBUG is off" in result.stderr


def test_production_defaults_are_secure(tmp_path):
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    result = run_settings(tmp_path, {}, "shell", "-v", "0", "-c", code)
    assert result.stdout.split() == ["True", "31536000", "True", "True"], result.stderr


def test_secure_settings_can_be_set_by_environment(tmp_path):
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    result = run_settings(tmp_path, {"DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_BEHIND_TLS_PROXY": "true"}, "shell", "-v", "0", "-c", code)
    assert result.stdout.strip() == "False ('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


def directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_citizen_pages_get_a_strict_content_security_policy(client, harlingen):
    for path in ("/", "/kwaliteitshandvest/", "/melding/"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'self'"]
        body = response.content.decode()
        assert "<style" not in body and " style=" not in body, f"{path} has inline styles the policy blocks"


def test_the_admin_allows_what_wagtail_needs_and_no_other_origin(officer_client):
    response = officer_client.get("/beheer/zaken/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"] and policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"] and policy["object-src"] == ["'none'"]
    body = response.content.decode()
    assert "gravatar.com" not in body
    assert " onsubmit=" not in body and " onclick=" not in body


def test_every_response_carries_a_trace_id_and_keeps_the_proxys(client, db):
    fresh = client.get("/")["traceparent"].split("-")
    assert len(fresh[1]) == 32
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    kept = client.get("/", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})["traceparent"]
    assert kept.split("-")[1] == trace
    forged = client.get("/", headers={"traceparent": "00-nonsense-01"})["traceparent"]
    assert forged.split("-")[1] != "nonsense"


def test_check_deploy_warns_when_another_municipality_mails_from_harlingens_address(tmp_path):
    """A second municipality that forgets its own mail settings would mail its citizens from info@harlingen.nl."""
    zuidplas = {"DJANGO_ALLOWED_HOSTS": "handvest.zuidplas.nl", "HANDVEST_BASE_URL": "https://handvest.zuidplas.nl"}
    result = run_settings(tmp_path, zuidplas, "check", "--deploy", "--fail-level", "WARNING")
    said = result.stdout + result.stderr
    assert result.returncode != 0 and "handvest.W001" in said and "handvest.W002" in said and "zuidplas.nl" in said
    own = {**zuidplas, "DEFAULT_FROM_EMAIL": "Gemeente Zuidplas <klachten@zuidplas.nl>", "HANDVEST_MAIL_DOMAIN": "handvest.zuidplas.nl"}
    result = run_settings(tmp_path, own, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
