"""Keeping the counts current case by case: a change costs the cells the case leaves and enters,
never a recount of its month.

What a case adds to ``NormMonthCount`` is its ``CaseFact`` (month of receipt, kind, channel,
outcome) times its ``CaseTagFact`` rows (norm, tag status). ``refresh_cases`` takes the stored
contribution, stores the case's facts anew, and moves each cell by the difference, one statement
per cell that changes (in a fixed order, so two refreshes never wait on each other in a circle).
The cost per case is the same in a month of ten cases as in a month of a hundred thousand
(``bench/bench_aggregates.py``). The nightly rebuild recounts everything and reports any
difference as drift (``rollup.rollup_rebuild``).

After commit a change is queued: a case id in ``AggregatePending`` (a new case's is written with the
case, in its transaction) and, at most once per ``HANDVEST_AGGREGATES_REFRESH_SECONDS``, a task that
takes every pending case (eager, in ``make run`` and the tests, at once). A burst of 2,000 e-mails is a handful of tasks, not 9,000.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DateField, F, Q, Sum, Value
from django.db.models.functions import Greatest, TruncMonth

from cases import dispatch
from cases.models import AggregatePending, Case, CaseFact, CaseNorm, CaseTagFact, NormMonthCount
from cases.reporting.rollup import (
    COUNTED_TAG_STATUSES,
    FACT_COLUMNS,
    ROLLUP_LOCK_KEY,
    TAG_FACT_COLUMNS,
    fact_queryset,
    insert_select,
    month_of,
    rollup_refresh,
    tag_fact_queryset,
)

logger = logging.getLogger(__name__)

# (month, norm id, tag status, kind, channel, outcome): the unique key of a NormMonthCount row.
Cell = tuple[datetime.date, int, str, str, str, str]
CELL_FIELDS = ("month", "norm_id", "tag_status", "kind", "channel", "outcome")
# Per-case advisory locks live above this offset, apart from ROLLUP_LOCK_KEY.
CASE_LOCK_OFFSET = 1 << 40
PENDING_BATCH = 500
FLUSH_KEY = "handvest:rollup:flush"


def refresh_cases(case_ids: Iterable[int]) -> int:
    """Bring these cases' part of the counts up to date; returns how many cells moved."""
    ids = sorted({int(case_id) for case_id in case_ids})
    if not ids:
        return 0
    with transaction.atomic():
        # First: a change committed from here on queues the case again, and is counted then.
        AggregatePending.objects.filter(case_id__in=ids).delete()
        _lock_cases(ids)
        before = contribution(ids)
        CaseTagFact.objects.filter(case_id__in=ids).delete()
        CaseFact.objects.filter(case_id__in=ids).delete()
        counted = Case.objects.filter(pk__in=ids, merged_into__isnull=True)
        insert_select(CaseFact, FACT_COLUMNS, fact_queryset(counted))
        insert_select(CaseTagFact, TAG_FACT_COLUMNS, tag_fact_queryset(CaseNorm.objects.filter(case__in=counted, status__in=COUNTED_TAG_STATUSES)))
        after = contribution(ids)
        delta = Counter(after)
        delta.subtract(before)
        moved = {cell: change for cell, change in delta.items() if change}
        for cell in sorted(moved):
            _move(cell, moved[cell])
    return len(moved)


def contribution(case_ids: list[int]) -> Counter[Cell]:
    """The cells these cases count in now, according to their stored facts."""
    facts = {
        case_id: (month_of(received_on), kind, channel, outcome)
        for case_id, received_on, kind, channel, outcome in CaseFact.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "received_on", "kind", "channel", "outcome"
        )
    }
    cells: Counter[Cell] = Counter()
    for case_id, norm_id, status in CaseTagFact.objects.filter(case_id__in=facts).values_list("case_id", "norm_id", "tag_status"):
        month, kind, channel, outcome = facts[case_id]
        cells[(month, norm_id, status, kind, channel, outcome)] += 1
    return cells


def _move(cell: Cell, change: int) -> None:
    where = dict(zip(CELL_FIELDS, cell, strict=True))
    if change < 0:
        # Never below zero: a count that drifted is corrected by the nightly rebuild, not made negative.
        NormMonthCount.objects.filter(**where).update(cases=Greatest(F("cases") + change, Value(0)))
        NormMonthCount.objects.filter(**where, cases=0).delete()
        return
    # An upsert that adds (two refreshes may add to one cell at once); Django's bulk_create can only
    # overwrite a conflicting row, not add to it, so this one statement is SQL. Both databases speak it.
    table = connection.ops.quote_name(NormMonthCount._meta.db_table)
    columns = [connection.ops.quote_name(NormMonthCount._meta.get_field(name.removesuffix("_id")).column) for name in CELL_FIELDS]
    cases = connection.ops.quote_name("cases")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, {cases}) VALUES ({', '.join(['%s'] * len(columns))}, %s) "
            f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {cases} = {table}.{cases} + EXCLUDED.{cases}",
            [*cell, change],
        )


def _lock_cases(ids: list[int]) -> None:
    """On PostgreSQL: wait for a full rebuild to finish (it holds the lock exclusively), and let only
    one refresh at a time take a case's facts (in id order, so two batches cannot deadlock)."""
    if connection.vendor != "postgresql":
        return  # SQLite writes one transaction at a time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [ROLLUP_LOCK_KEY])
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s + id)) FROM (SELECT unnest(%s::bigint[]) AS id ORDER BY 1) AS wanted",
            [CASE_LOCK_OFFSET, ids],
        )


def refresh_pending() -> int:
    """Count every case waiting in ``AggregatePending`` (the task behind ``queue_refresh``); returns how many."""
    clear_flush_mark()
    done = 0
    while ids := list(AggregatePending.objects.order_by("since").values_list("case_id", flat=True)[:PENDING_BATCH]):
        refresh_cases(ids)
        done += len(ids)
    if done:
        logger.info("aggregates updated for %d changed cases", done)
    return done


def queue_refresh(case_ids: Iterable[int], *, new: bool = False) -> None:
    """Count these cases again after the current transaction commits.

    ``robust``: a failure is logged and never breaks the change that caused it; a case left in
    ``AggregatePending`` is taken by the next task, and the nightly rebuild repairs anything else.
    ``new``: the cases were made in this transaction; their mark is written in it, so it commits with
    them (registering a case is one commit). A new case cannot have a mark that a running task is
    taking, so this holds no lock a task waits on; a changed case's mark is written after commit.
    """
    ids = sorted({case_id for case_id in case_ids if case_id is not None})
    if not ids:
        return
    if new:
        _mark(ids)

    def queue() -> None:
        # In an eager request the changed cases of all its commits are marked once, when it ends.
        if not new and not dispatch.batch_later(_mark, ids):
            _mark(ids)
        if dispatch.runs_eagerly():
            dispatch.enqueue(dispatch.REFRESH_AGGREGATES)
        elif _claim_flush():
            dispatch.enqueue(dispatch.REFRESH_AGGREGATES, countdown=settings.HANDVEST_AGGREGATES_REFRESH_SECONDS)

    transaction.on_commit(queue, robust=True)


def _mark(ids: list[int]) -> None:
    AggregatePending.objects.bulk_create([AggregatePending(case_id=case_id) for case_id in ids], ignore_conflicts=True)


def _claim_flush() -> bool:
    """True for the first change of a window: it queues the task that counts all of them."""
    try:
        return cache.add(FLUSH_KEY, 1, timeout=settings.HANDVEST_AGGREGATES_REFRESH_SECONDS)
    except Exception:
        logger.exception("aggregate task not coalesced: the cache is unavailable")
        return True


def clear_flush_mark() -> None:
    """The task clears the mark before it counts, so a change made while it runs queues the next one."""
    try:
        cache.delete(FLUSH_KEY)
    except Exception:
        logger.warning("aggregate task mark not cleared: the cache is unavailable (it expires)")


def rebuild_with_drift_check() -> int:
    """The nightly check: count what is pending, recount everything, and report every cell and month
    whose stored figure differed from the recount (there should be none). Returns the number of drifted cells."""
    refresh_pending()
    cells_before = _stored_cells()
    facts_before = _fact_signature()
    rollup_refresh(months=None)
    cells_after, facts_after = _stored_cells(), _fact_signature()
    drifted = {cell for cell in cells_before.keys() | cells_after.keys() if cells_before.get(cell) != cells_after.get(cell)}
    months = {month for month in facts_before.keys() | facts_after.keys() if facts_before.get(month) != facts_after.get(month)}
    if drifted or months:
        logger.warning(
            "aggregates drifted and were repaired: %d cells (%s), case facts of %d months (%s)",
            len(drifted),
            ", ".join(f"{cell[0]:%Y-%m} norm {cell[1]} {cell[2]}" for cell in sorted(drifted)[:10]),
            len(months),
            ", ".join(f"{month:%Y-%m}" for month in sorted(months)),
        )
    else:
        logger.info("aggregates rebuilt: no drift")
    return len(drifted)


def _stored_cells() -> dict[Cell, int]:
    return {tuple(row[:-1]): row[-1] for row in NormMonthCount.objects.values_list(*CELL_FIELDS, "cases")}


def _fact_signature() -> dict[datetime.date, tuple]:
    """Per month of receipt, a digest of the case facts (how many, closed, acknowledged, handled, days, call-backs)."""
    rows = (
        CaseFact.objects.annotate(month=TruncMonth("received_on", output_field=DateField()))
        .values("month")
        .annotate(
            facts=Count("pk"),
            cases=Sum("case_id"),
            closed=Count("pk", filter=Q(closed=True)),
            acknowledged=Count("acknowledged_on"),
            handled=Count("handled_on"),
            days=Sum("handling_days"),
            extended=Count("extended_on"),
            outcomes=Count("pk", filter=~Q(outcome="")),
            called_back=Count("called_back_on"),
            callback_superseded=Count("callback_superseded_on"),
        )
        .order_by()
    )
    return {row.pop("month"): tuple(sorted(row.items())) for row in rows}
