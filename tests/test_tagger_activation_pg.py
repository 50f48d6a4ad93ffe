"""Two trainings that finish at the same moment leave one active tagger, not two. Needs PostgreSQL."""

import threading
import time

import pytest
from django.db import connection, transaction

from cases.models import TaggerModel
from cases.tagging.training import tagger_activate
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def model(version: str, f1: float, *, active: bool = False) -> TaggerModel:
    return TaggerModel.objects.create(version=version, path=f"/tmp/{version}", scores={"norm_micro_f1": f1}, active=active)


def activated_meanwhile(other: TaggerModel, ready: threading.Event, hold: float = 0.5) -> threading.Thread:
    """Another training's activation of ``other``: written, and committed only ``hold`` seconds later."""

    def run():
        try:
            with transaction.atomic():
                TaggerModel.objects.filter(active=True).exclude(pk=other.pk).update(active=False)
                TaggerModel.objects.filter(pk=other.pk).update(active=True)
                ready.set()
                time.sleep(hold)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_activations_at_once_leave_one_active_model_the_later_one():
    old = model("old", 0.90, active=True)
    first, second = model("first", 0.91), model("second", 0.91)
    ready = threading.Event()
    thread = activated_meanwhile(first, ready)
    assert ready.wait(5)
    _model, activated, reason = tagger_activate(second)  # waits for the first to commit, then compares with it
    thread.join()
    assert activated, reason
    assert list(TaggerModel.objects.filter(active=True).values_list("version", flat=True)) == ["second"]
    old.refresh_from_db()
    assert not old.active


def test_a_model_activated_meanwhile_is_the_one_compared_with():
    model("old", 0.80, active=True)
    better, weaker = model("better", 0.95), model("weaker", 0.85)  # not worse than old, worse than better
    ready = threading.Event()
    thread = activated_meanwhile(better, ready)
    assert ready.wait(5)
    _model, activated, reason = tagger_activate(weaker)
    thread.join()
    assert not activated
    assert "norm_micro_f1 (0.850 < 0.950)" in reason
    assert list(TaggerModel.objects.filter(active=True).values_list("version", flat=True)) == ["better"]
