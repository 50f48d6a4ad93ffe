from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
HARLINGEN = ROOT / "cms" / "charters" / "harlingen-2017.yaml"


@pytest.fixture(autouse=True)
def _embedded_defaults(settings, tmp_path):
    """Unit tests run on the embedded defaults: eager Celery, locmem mail, a private media folder."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # Training the real tagger belongs to the tagger's own tests, not to every registration.
    settings.HANDVEST_TAG_ON_REGISTRATION = False
    # Each test has its own charter in its own transaction: the web form's minute-long list of norms
    # and the municipality's settings (per-process caches) must not carry one test's into the next.
    from cms.kept import forget

    forget()
    # Factories make an officer per test; the production password hasher would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests of the workspace log in with force_login; the second factor has its own tests
    # (tests/test_two_factor.py), which turn it back on.
    settings.HANDVEST_TWO_FACTOR_REQUIRED = False
    from config.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def harlingen(db):
    """The Harlingen 2017 charter, loaded as `make run` loads it."""
    from cms.charter_loading import load_charter

    load_charter(path=HARLINGEN)
    from cms.models import MunicipalitySettings

    return MunicipalitySettings.load()


def requires_postgres():
    return pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)")


@pytest.fixture
def municipality(db):
    """Just the municipality settings (prefix HLG), without loading the whole charter."""
    from cms.models import MunicipalitySettings

    settings = MunicipalitySettings.load()
    settings.name = "Gemeente Harlingen"
    settings.registration_prefix = "HLG"
    settings.complaint_email = "info@harlingen.nl"
    settings.save()
    return settings


@pytest.fixture
def gemeente(municipality):
    """The municipality with the contact details of the Harlingen charter (without loading all its norms)."""
    municipality.phone = "14 0517"
    municipality.postal_address = "Postbus 10 000\n8860 HA Harlingen"
    municipality.website = "https://www.harlingen.nl"
    municipality.save()
    return municipality


@pytest.fixture
def handler(db):
    """A quality officer; the workspace tests act as this user."""
    from tests.factories import officer

    return officer("a.zijlstra")


@pytest.fixture
def officer_client(client, handler):
    """A test client logged in as ``handler``."""
    client.force_login(handler)
    return client


@pytest.fixture
def archivist(db):
    from cases.permissions import ARCHIVISTS
    from tests.factories import UserFactory

    return UserFactory(username="archivaris", first_name="Anne", last_name="Archief", role=ARCHIVISTS)
