"""Editors' work survives the charter file: `make run` loads only into an empty database, and a
plain reload keeps what editors revised in the CMS (``--force`` overwrites it, showing what changes)."""

import io

import pytest
from django.core.management import call_command

from cms.charter_loading import load_charter, revised_in_cms
from cms.models import MunicipalitySettings, ServiceNorm
from cms.roles import EDITORS
from tests.conftest import HARLINGEN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EDITED = "Wij nemen 80% van de telefoontjes binnen 20 seconden op."


def make_run_setup() -> str:
    """The charter step of `make run`, as the Makefile runs it."""
    out = io.StringIO()
    call_command("load_charter", "--if-empty", str(HARLINGEN), stdout=out)
    return out.getvalue()


def editor_revises(code: str, promise: str) -> ServiceNorm:
    editor = UserFactory(username="redacteur", role=EDITORS)
    norm = ServiceNorm.objects.get(code=code)
    norm.promise = promise
    norm.save_revision(user=editor).publish()
    return ServiceNorm.objects.get(code=code)


def test_running_the_make_run_setup_twice_keeps_an_editors_revision():
    assert "29 created" in make_run_setup()
    assert not revised_in_cms(ServiceNorm.objects.get(code="TEL-25SEC"))
    editor_revises("TEL-25SEC", EDITED)
    second = make_run_setup()
    assert "not loaded" in second
    assert ServiceNorm.objects.get(code="TEL-25SEC").promise == EDITED


def test_a_plain_reload_keeps_a_norm_revised_in_the_cms_and_says_what_the_file_would_change():
    make_run_setup()
    editor_revises("TEL-25SEC", EDITED)
    report = load_charter(path=HARLINGEN)
    assert report.kept_norms == ["TEL-25SEC"] and "TEL-25SEC" not in report.updated
    assert ServiceNorm.objects.get(code="TEL-25SEC").promise == EDITED
    out = io.StringIO()
    call_command("load_charter", str(HARLINGEN), stdout=out)
    assert "changed in the CMS, kept" in out.getvalue() and "TEL-25SEC.promise" in out.getvalue()


def test_force_overwrites_the_editors_revision_with_the_file():
    make_run_setup()
    original = ServiceNorm.objects.get(code="TEL-25SEC").promise
    editor_revises("TEL-25SEC", EDITED)
    report = load_charter(path=HARLINGEN, force=True)
    assert report.updated == ["TEL-25SEC"] and report.kept == []
    assert ServiceNorm.objects.get(code="TEL-25SEC").promise == original


def test_settings_changed_in_the_cms_are_kept():
    make_run_setup()
    settings = MunicipalitySettings.load()
    settings.phone = "0517 49 22 22"
    settings.save()
    report = load_charter(path=HARLINGEN)
    assert MunicipalitySettings.load().phone == "0517 49 22 22"
    assert [str(item) for item in report.kept] == ["instellingen.phone: '0517 49 22 22' -> '14 0517'"]
