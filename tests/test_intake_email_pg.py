"""A webhook delivering the same message in parallel (retry while the first post is still busy): needs PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from cases.intake.email import email_intake
from cases.models import Case, InboundMessage, Registration
from cms.models import MunicipalitySettings
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RAW = (Path(__file__).parent / "fixtures" / "eml" / "plain-klacht.eml").read_bytes()


def test_the_same_mail_posted_in_parallel_is_registered_once():
    settings = MunicipalitySettings.load()
    settings.registration_prefix = "HLG"
    settings.save()
    start = threading.Barrier(6)

    def deliver(_):
        try:
            start.wait()
            return email_intake(raw=RAW, source="webhook:mailgun").outcome
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(deliver, range(6)))
    assert sorted(outcomes) == ["case"] + ["duplicate"] * 5
    assert Registration.objects.count() == Case.objects.count() == InboundMessage.objects.count() == 1
