"""Numbering and transitions under real concurrency: needs PostgreSQL (CI sets DATABASE_URL)."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from cases.errors import WorkflowError
from cases.models import Case, Registration
from cases.workflow.registration import Sender, register_item
from cases.workflow.transitions import case_transition
from cms.models import MunicipalitySettings
from tests.conftest import requires_postgres
from tests.factories import CaseFactory, officer

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _prefix():
    settings = MunicipalitySettings.load()
    settings.registration_prefix = "HLG"
    settings.save()


def test_parallel_registrations_get_unique_gap_free_numbers():
    _prefix()

    def register_many(worker):
        try:
            return [
                register_item(
                    channel="web",
                    kind="complaint",
                    text=f"klacht {worker}-{i}",
                    sender=Sender(email=f"w{worker}@example.nl"),
                    received_on=datetime.date(2026, 5, 6),
                )[0].number
                for i in range(5)
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [n for batch in pool.map(register_many, range(8)) for n in batch]
    assert len(numbers) == len(set(numbers)) == 40
    assert sorted(numbers) == [f"HLG-2026-{i:06d}" for i in range(1, 41)]


def test_the_same_message_delivered_in_parallel_is_registered_once():
    _prefix()
    barrier = threading.Barrier(6)

    def deliver(_):
        try:
            barrier.wait()
            return register_item(channel="email", kind="complaint", text="zelfde", message_id="<dup@mail.example>")[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(deliver, range(6)))
    assert created.count(True) == 1
    assert Registration.objects.filter(message_id="<dup@mail.example>").count() == 1


def test_two_officers_clicking_at_once_one_wins_the_other_is_told():
    _prefix()
    case = CaseFactory()
    first, second = officer("een"), officer("twee")
    barrier = threading.Barrier(2)

    def click(args):
        actor, name = args
        try:
            barrier.wait()
            case_transition(case_id=case.pk, name=name, actor=actor, expected_state="received")
            return "ok"
        except WorkflowError as exc:
            return str(exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(click, [(first, "acknowledge"), (second, "resolve_informally")]))
    assert results.count("ok") == 1
    loser = next(r for r in results if r != "ok")
    assert "collega" in loser
    assert Case.objects.get(pk=case.pk).events.filter(kind="transition").count() == 1
