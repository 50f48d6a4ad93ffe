"""The counts follow each change of a case through its own cells only, and always equal a full recount.

Every test compares the incrementally kept tables with what ``rollup_refresh`` (the full
recount) makes of the same cases; a test that tampers with a cell shows that a case's refresh
never recounts its month, and that the nightly rebuild finds and repairs the tampering.
"""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from cases import dispatch
from cases.models import AggregatePending, Case, CaseFact, CaseNorm, CaseTagFact, NormMonthCount
from cases.reporting import increments
from cases.reporting.increments import rebuild_with_drift_check, refresh_cases, refresh_pending
from cases.reporting.rollup import FACT_COLUMNS, rollup_refresh
from cms.models import ServiceNorm
from tests.conftest import requires_postgres
from tests.test_aggregates_data import D, at, build_case, build_norm_cases, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

CODES = ["TEL-25SEC", "BALIE-WACHTTIJD", "WEB-INFORMATIE", "POST-REACTIE"]


def stored() -> tuple[dict, dict, set]:
    cells = {row[:-1]: row[-1] for row in NormMonthCount.objects.values_list("month", "norm_id", "tag_status", "kind", "channel", "outcome", "cases")}
    facts = {row[0]: row for row in CaseFact.objects.values_list(*(f"{name}_id" if name == "case" else name for name in FACT_COLUMNS))}
    tags = set(CaseTagFact.objects.values_list("case_id", "norm_id", "tag_status"))
    return cells, facts, tags


def recounted() -> tuple[dict, dict, set]:
    rollup_refresh(months=None)
    return stored()


def change_something(rng: random.Random, norms: dict[str, ServiceNorm]) -> None:
    """One change an officer, the tagger or the mailroom makes to a case, chosen at random."""
    cases = list(Case.objects.filter(merged_into__isnull=True).select_related("registration"))
    case = rng.choice(cases)
    move = rng.choice(["tag", "retag", "untag", "close", "redate", "new", "merge", "kind"])
    if move == "tag":
        CaseNorm.objects.get_or_create(case=case, norm=norms[rng.choice(CODES)], defaults={"status": rng.choice(["suggested", "confirmed"])})
    elif move == "retag" and (tag := CaseNorm.objects.filter(case=case).first()):
        tag.status = rng.choice(["suggested", "confirmed", "rejected"])
        tag.save()
    elif move == "untag" and (tag := CaseNorm.objects.filter(case=case).first()):
        tag.delete()
    elif move == "close":
        # The state is the workflow's (django-fsm protects it); the save is what fires the signal, as a transition's does.
        Case.objects.filter(pk=case.pk).update(state="closed", closed_at=at(D(2025, 5, 2)), outcome=rng.choice(["gegrond", "ongegrond", ""]))
        Case.objects.get(pk=case.pk).save(update_fields=["outcome"])
    elif move == "redate":
        case.registration.received_on = rng.choice([D(2025, 1, 20), D(2025, 3, 3), D(2024, 12, 30)])
        case.registration.save()
    elif move == "new":
        build_case(received_on=rng.choice([D(2025, 1, 21), D(2025, 2, 17)]), channel=rng.choice(["web", "email"]), tags={rng.choice(CODES): "confirmed"})
    elif move == "merge" and len(cases) > 3:
        case.merged_into = rng.choice([other for other in cases if other.pk != case.pk])
        case.save()
    elif move == "kind":
        case.kind = "suggestion" if case.kind == "complaint" else "complaint"
        case.save()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_any_sequence_of_changes_the_counts_equal_a_full_recount(seed, norms, django_capture_on_commit_callbacks):
    build_norm_cases()
    by_code = {norm.code: norm for norm in ServiceNorm.objects.filter(code__in=CODES)}
    rng = random.Random(seed)
    for _ in range(40):
        with django_capture_on_commit_callbacks(execute=True):
            change_something(rng, by_code)
    assert not AggregatePending.objects.exists()
    kept = stored()
    assert kept == recounted()
    assert sum(kept[0].values()) == CaseNorm.objects.filter(status__in=["confirmed", "suggested"], case__merged_into__isnull=True).count()


def test_a_case_refresh_touches_only_its_own_cells_and_the_nightly_rebuild_finds_drift(norms, caplog):
    cases = build_norm_cases()
    tampered = NormMonthCount.objects.get(month=D(2025, 2, 1), norm__code="BALIE-WACHTTIJD")
    NormMonthCount.objects.filter(pk=tampered.pk).update(cases=99)
    CaseNorm.objects.filter(case=cases["a_feb_0"]).update(status="suggested")
    refresh_cases([cases["a_feb_0"].pk])  # same month as the tampered cell, another norm
    assert NormMonthCount.objects.get(pk=tampered.pk).cases == 99  # the month was not recounted
    assert NormMonthCount.objects.get(month=D(2025, 2, 1), norm__code="TEL-25SEC", tag_status="suggested").cases == 1
    assert rebuild_with_drift_check() == 1
    assert "drifted and were repaired: 1 cells (2025-02" in caplog.text
    assert NormMonthCount.objects.get(month=D(2025, 2, 1), norm__code="BALIE-WACHTTIJD").cases == 3
    caplog.clear()
    assert rebuild_with_drift_check() == 0
    assert "no drift" in caplog.text


def test_the_cost_of_a_change_does_not_grow_with_its_month(norms):
    cases = build_norm_cases()

    def queries_for(case: Case) -> int:
        CaseNorm.objects.filter(case=case).update(status="suggested")
        with CaptureQueriesContext(connection) as queries:
            refresh_cases([case.pk])
        return len(queries)

    small = queries_for(cases["a_feb_1"])
    for day in range(1, 29):
        for channel in ("web", "email"):
            build_case(received_on=D(2025, 2, day), channel=channel, tags={"TEL-25SEC": "confirmed", "POST-REACTIE": "suggested"})
    rollup_refresh(months=None)
    assert NormMonthCount.objects.filter(month=D(2025, 2, 1)).count() >= 4
    assert queries_for(cases["a_feb_0"]) == small
    assert stored() == recounted()


def test_with_a_worker_a_burst_of_changes_is_one_task_and_nothing_is_lost(norms, monkeypatch, settings, django_capture_on_commit_callbacks):
    cases = build_norm_cases()
    refresh_pending()  # the fixtures' own new cases
    settings.HANDVEST_AGGREGATES_REFRESH_SECONDS = 60
    queued = []
    # As with a worker: tasks are queued (here: recorded), not run in this process.
    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append((name, kwargs)))
    increments.clear_flush_mark()
    for index in range(30):
        with django_capture_on_commit_callbacks(execute=True):
            build_case(received_on=D(2025, 1, 1 + index % 28), tags={"WEB-INFORMATIE": "confirmed"})
    with django_capture_on_commit_callbacks(execute=True):
        CaseNorm.objects.filter(case=cases["c_apr"], norm__code="WEB-INFORMATIE").update(status="suggested")
        CaseNorm.objects.get(case=cases["c_apr"], norm__code="TEL-25SEC").save()
    assert [task for task in queued if task[0] == dispatch.REFRESH_AGGREGATES] == [(dispatch.REFRESH_AGGREGATES, {"countdown": 60})]
    assert AggregatePending.objects.count() == 31
    assert refresh_pending() == 31
    assert not AggregatePending.objects.exists()
    assert stored() == recounted()


def test_a_failed_count_leaves_the_case_pending_for_the_next_one(norms, monkeypatch, django_capture_on_commit_callbacks, caplog):
    cases = build_norm_cases()
    refresh_pending()  # the fixtures' own new cases
    real = increments.refresh_cases
    monkeypatch.setattr(increments, "refresh_cases", lambda ids: (_ for _ in ()).throw(RuntimeError("database went away")))
    with django_capture_on_commit_callbacks(execute=True):
        tag = CaseNorm.objects.get(case=cases["a_jan_suggested"])
        tag.status = "confirmed"
        tag.save()
    assert "database went away" in caplog.text
    assert list(AggregatePending.objects.values_list("case_id", flat=True)) == [cases["a_jan_suggested"].pk]
    monkeypatch.setattr(increments, "refresh_cases", real)
    assert refresh_pending() == 1
    assert NormMonthCount.objects.get(month=D(2025, 1, 1), norm__code="TEL-25SEC", tag_status="confirmed", channel="email").cases == 1
    assert stored() == recounted()


def test_a_new_case_is_marked_in_its_own_transaction_and_a_rolled_back_one_leaves_no_mark(norms, django_capture_on_commit_callbacks):
    """Registering commits once: the new case's mark is written with it, before any commit hook runs."""
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        case = build_case(received_on=D(2025, 5, 5), tags={})
        assert AggregatePending.objects.filter(case_id=case.pk).exists()
    assert hooks  # the task is still queued after commit
    try:
        with transaction.atomic():
            gone = build_case(received_on=D(2025, 5, 6), tags={})
            raise RuntimeError("the registration failed")
    except RuntimeError:
        pass
    assert not AggregatePending.objects.filter(case_id=gone.pk).exists()
    assert refresh_pending() == 1 and stored() == recounted()


@requires_postgres()
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_counts_of_cases_in_the_same_cells_add_up(norms):
    telephone = ServiceNorm.objects.get(code="TEL-25SEC")
    cases = [build_case(received_on=D(2025, 3, 3), tags={}) for _ in range(24)]
    rollup_refresh(months=None)
    for case in cases:
        CaseNorm.objects.create(case=case, norm=telephone, status="confirmed")
    errors = []

    def count(batch):
        try:
            for case in batch:
                refresh_cases([case.pk])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=count, args=(cases[start::4],)) for start in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert NormMonthCount.objects.get(month=D(2025, 3, 1), norm=telephone).cases == 24
    assert stored() == recounted()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_in_eager_mode_a_web_form_request_counts_once_and_its_case_is_counted_when_it_answers(client, municipality, monkeypatch, settings):
    """``make run``: registering, acknowledging and sending commit three times for one request; the
    counts are taken once, after the response (``cases.dispatch``), not after each commit."""
    from cases import tasks

    counted = []
    real = tasks.refresh_pending
    monkeypatch.setattr(tasks, "refresh_pending", lambda: counted.append(AggregatePending.objects.count()) or real())
    data = {"kind": "complaint", "description": "Ik heb een uur aan de balie gewacht.", "name": "Aukje", "email": "aukje@example.nl",
            "address": "", "phone": "", "hint": "", "website": ""}
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    with CaptureQueriesContext(connection) as captured:
        assert client.post("/melding/", data).status_code == 302
    case = Case.objects.get()
    assert case.state == "acknowledged"  # acknowledged and sent after the response, before the client returns: three commits
    assert counted == [1]
    # Marked with the registration, and once more for what the acknowledgement and its sending changed
    # (when the request ends), not after each of their commits.
    marks = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT") and '"cases_aggregatepending"' in q["sql"][:60]]  # SQLite: OR IGNORE
    assert len(marks) == 2, marks
    assert not AggregatePending.objects.exists() and CaseFact.objects.filter(case_id=case.pk, channel="web").exists()


@requires_postgres()
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tag_committed_while_the_nightly_rebuild_runs_is_counted_once(norms, monkeypatch, caplog):
    """The rebuild's statements each see what was committed when they began. A tag committed between the
    tag facts and the counts was counted in the counts but not in the facts, and its case's refresh then
    counted it again: the cell said 2 for one tag, and the next night reported drift it had made itself."""
    from cases.reporting import rollup

    telephone = ServiceNorm.objects.get(code="TEL-25SEC")
    case = build_case(received_on=D(2025, 3, 3), tags={})
    original = rollup.insert_select

    def tag_committed_meanwhile(model, columns, queryset):
        rows = original(model, columns, queryset)
        if model is CaseTagFact:
            # Another connection (the tagger on a worker) commits a suggested tag now; its count is queued.
            def tag():
                try:
                    CaseNorm.objects.create(case_id=case.pk, norm=telephone, status="suggested")
                finally:
                    connection.close()

            thread = threading.Thread(target=tag)
            thread.start()
            thread.join()
        return rows

    # As with a worker: the change marks its case pending and the count task comes later (here: after the rebuild).
    monkeypatch.setattr(increments.dispatch, "runs_eagerly", lambda: False)
    monkeypatch.setattr(increments, "_claim_flush", lambda: False)
    monkeypatch.setattr(rollup, "insert_select", tag_committed_meanwhile)
    rollup_refresh(months=None)
    monkeypatch.setattr(rollup, "insert_select", original)
    assert AggregatePending.objects.filter(case_id=case.pk).exists()
    refresh_pending()
    assert NormMonthCount.objects.get(month=D(2025, 3, 1), norm=telephone).cases == 1
    with caplog.at_level("WARNING", logger="cases.reporting.increments"):
        assert rebuild_with_drift_check() == 0
    assert "drifted" not in caplog.text
