"""Storing checked measurements, all in one transaction, so that a second import changes nothing.

An observation is known by its norm, moment, value and occurrence (the how-manieth identical row
of its file), unique in the table: on PostgreSQL the rows go in with ``COPY`` into a temporary
table and one ``INSERT … SELECT row_number() … ON CONFLICT DO NOTHING`` (a million rows in
seconds, see ``bench/bench_measurements.py``); elsewhere (SQLite in ``make run`` and the tests)
with ``bulk_create(ignore_conflicts=True)``.
Totals per period are unique per norm and days; a later file with other counts for the same
days replaces them (a supplier's correction). A ``MeasurementImport`` row is written only
when something changed.
"""

from __future__ import annotations

import bisect
import datetime
import logging
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy

from cases.models import Measurement, MeasurementImport, MeasurementTotal
from cms.models import ServiceNorm

logger = logging.getLogger(__name__)

SQLITE_BATCH = 5_000
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportMeta:
    file_name: str
    sha256: str
    source: str
    actor: object = None


@dataclass(frozen=True)
class ParsedTotal:
    norm_id: int
    period_start: datetime.date
    period_end: datetime.date
    observations: int
    within_target: int

    @property
    def key(self) -> tuple[int, datetime.date, datetime.date]:
        return (self.norm_id, self.period_start, self.period_end)

    def overlaps(self, other) -> bool:
        """Of the same norm, with a day in common (``other``: a ParsedTotal or a stored MeasurementTotal)."""
        return self.norm_id == other.norm_id and self.period_start <= other.period_end and other.period_start <= self.period_end

    def covers(self, other) -> bool:
        return self.norm_id == other.norm_id and self.period_start <= other.period_start and other.period_end <= self.period_end


class PeriodIndex:
    """Totals of one file per norm, sorted by their first day. They never overlap one another (the file's check), so
    the ones that overlap a period are found by bisection, not by a pass over every total: a file of 10,000 daily
    totals, read again, is checked in n log n, not in n² pairs."""

    def __init__(self, totals: Iterable[tuple[ParsedTotal, int]] = ()):
        self.starts: dict[int, list[datetime.date]] = {}
        self.entries: dict[int, list[tuple[ParsedTotal, int]]] = {}
        for total, line in totals:
            self.add(total, line)

    def add(self, total: ParsedTotal, line: int = 0) -> None:
        starts, entries = self.starts.setdefault(total.norm_id, []), self.entries.setdefault(total.norm_id, [])
        at = bisect.bisect_right(starts, total.period_start)
        starts.insert(at, total.period_start)
        entries.insert(at, (total, line))

    def overlapping(self, other) -> list[tuple[ParsedTotal, int]]:
        """The totals of ``other``'s norm with a day in common with it (``other``: a ParsedTotal or a stored total)."""
        starts, entries = self.starts.get(other.norm_id, []), self.entries.get(other.norm_id, [])
        found, at = [], bisect.bisect_right(starts, other.period_end) - 1
        while at >= 0 and entries[at][0].period_end >= other.period_start:  # disjoint and sorted: their ends rise too
            found.append(entries[at])
            at -= 1
        return found


RAW_BESIDE_TOTAL = gettext_lazy(
    "%(norm)s: het totaal van %(start)s t/m %(end)s en de losse metingen van %(day)s gaan over dezelfde dagen: dezelfde "
    "metingen zouden twee keer tellen. Lees per norm en periode óf losse metingen óf een totaal in."
)
MAX_LISTED = 5


@dataclass(frozen=True)
class _Day:
    """One day of one norm, as a period (for ``PeriodIndex.overlapping``)."""

    norm_id: int
    period_start: datetime.date

    @property
    def period_end(self) -> datetime.date:
        return self.period_start


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _raw_days(totals: list[ParsedTotal]) -> set[tuple[int, datetime.date]]:
    """The (norm, local day) of stored single observations within the days of these totals' norms."""
    if not totals:
        return set()
    first, last = min(total.period_start for total in totals), max(total.period_end for total in totals)
    rows = Measurement.objects.filter(
        norm_id__in={total.norm_id for total in totals},
        observed_at__gte=_local_midnight(first),
        observed_at__lt=_local_midnight(last + datetime.timedelta(days=1)),
    ).annotate(day=TruncDate("observed_at", tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)))
    return set(rows.values_list("norm_id", "day").distinct().order_by())


def raw_beside_totals(days: set[tuple[int, datetime.date]], totals: Iterable[ParsedTotal | MeasurementTotal]) -> list[str]:
    """Why single observations on ``days`` and these totals cannot both count (a day in both: the same calls twice)."""
    index, problems = PeriodIndex((total, 0) for total in totals), []
    codes = dict(ServiceNorm.objects.filter(pk__in={norm_id for norm_id, _day in days}).values_list("pk", "code"))
    for norm_id, day in sorted(days):
        for total, _line in index.overlapping(_Day(norm_id, day)):
            problems.append(str(RAW_BESIDE_TOTAL % {"norm": codes.get(norm_id, norm_id), "start": total.period_start, "end": total.period_end, "day": day}))
            if len(problems) >= MAX_LISTED:
                return problems
    return problems


def check_raw_days(days: set[tuple[int, datetime.date]]) -> list[str]:
    """Problems of a file of single observations on ``days``: stored totals that count the same days."""
    if not days:
        return []
    first, last = min(day for _norm, day in days), max(day for _norm, day in days)
    stored = MeasurementTotal.objects.filter(norm_id__in={norm_id for norm_id, _day in days}, period_start__lte=last, period_end__gte=first)
    return raw_beside_totals(days, stored)


OVERLAPS_STORED = gettext_lazy(
    "%(norm)s %(start)s t/m %(end)s overlapt met het eerder ingelezen totaal van %(old_start)s t/m %(old_end)s, dat er niet "
    "helemaal binnen valt: dezelfde metingen zouden twee keer tellen. Lees een totaal in over precies die periode, of over "
    "een periode die haar helemaal omvat (dat vervangt het oude)."
)


class TotalsOverlap(ValueError):
    """Totals that would count the same measurements twice; ``problems`` says which (Dutch)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``rows`` read, ``added`` new, ``updated`` replaced totals; the rest were there already."""

    kind: str
    rows: int
    added: int
    updated: int = 0
    replaced: int = 0  # stored totals a longer one of the file covers: gone, not lines of the file

    @property
    def unchanged(self) -> int:
        return self.rows - self.added - self.updated

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.replaced)


def _log(meta: ImportMeta, result: ImportResult) -> None:
    if result.changed:
        MeasurementImport.objects.create(
            file_name=meta.file_name[:255],
            sha256=meta.sha256,
            kind=result.kind,
            source=meta.source,
            rows=result.rows,
            added=result.added,
            updated=result.updated,
            replaced=result.replaced,
            imported_by=meta.actor if getattr(meta.actor, "pk", None) else None,
        )
    logger.info(
        "measurements %s (%s): %d rows, %d new, %d updated, %d stored totals replaced",
        meta.file_name, result.kind, result.rows, result.added, result.updated, result.replaced,
    )


def _copy_observations(rows: TextIO, source: str) -> int:
    """PostgreSQL: COPY into a temporary table, number identical rows, add the rows not there yet."""
    table = connection.ops.quote_name(Measurement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.measurement_in")
        cursor.execute("CREATE TEMPORARY TABLE measurement_in (norm_id bigint, observed_at timestamptz, value numeric, line integer) ON COMMIT DROP")
        # A moment without an offset is local time: PostgreSQL reads it in this transaction's zone.
        cursor.execute("SELECT set_config('TimeZone', %s, true), set_config('work_mem', '64MB', true)", [settings.TIME_ZONE])
        with cursor.copy("COPY measurement_in (norm_id, observed_at, value, line) FROM STDIN") as copy:
            while chunk := rows.read(COPY_CHUNK):
                copy.write(chunk)
        # Numbered in the order of the unique index, so the rows go in as the index is ordered.
        cursor.execute(
            f"INSERT INTO {table} (norm_id, observed_at, value, occurrence, source) "
            "SELECT norm_id, observed_at, value, row_number() OVER (PARTITION BY norm_id, observed_at, value ORDER BY line) - 1, %s "
            "FROM measurement_in ON CONFLICT (norm_id, observed_at, value, occurrence) DO NOTHING",
            [source],
        )
        added = cursor.rowcount
        cursor.execute("SELECT set_config('TimeZone', 'UTC', true)")
    return added


def _bulk_observations(rows: TextIO, source: str) -> int:
    """Any other database: identical rows numbered here, bulk inserts that skip rows already there."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    before = Measurement.objects.count()
    seen: Counter = Counter()
    batch: list[Measurement] = []
    for line in rows:
        norm_id, moment_text, value_text, _line = line.rstrip("\n").split("\t")
        moment = datetime.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        identity = (int(norm_id), moment, Decimal(value_text))
        batch.append(Measurement(norm_id=identity[0], observed_at=moment, value=identity[2], occurrence=seen[identity], source=source))
        seen[identity] += 1
        if len(batch) >= SQLITE_BATCH:
            Measurement.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Measurement.objects.bulk_create(batch, ignore_conflicts=True)
    return Measurement.objects.count() - before


def store_observations(rows: TextIO, *, rows_count: int, meta: ImportMeta, progress: Callable[[int, str], None] | None = None) -> ImportResult:
    """Store checked observations (COPY text: norm id, moment, value, line); rows already there are skipped."""
    if progress is not None:
        progress(0, "opslaan")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            added = _copy_observations(rows, meta.source)
        else:
            added = _bulk_observations(rows, meta.source)
        result = ImportResult(kind="raw", rows=rows_count, added=added)
        _log(meta, result)
    return result


def _overlapped(totals: list[ParsedTotal]) -> list[MeasurementTotal]:
    """The stored totals that new ones wholly cover (a corrected or longer export: replaced by them);
    raises ``TotalsOverlap`` for one that overlaps a new total partly or wholly contains it."""
    if not totals:
        return []
    first, last = min(total.period_start for total in totals), max(total.period_end for total in totals)
    stored = MeasurementTotal.objects.select_for_update().select_related("norm").filter(
        norm_id__in={total.norm_id for total in totals}, period_start__lte=last, period_end__gte=first
    )
    replaced, problems, index = [], [], PeriodIndex((total, 0) for total in totals)
    for row in stored:
        for total, _line in index.overlapping(row):
            if row.period_start == total.period_start and row.period_end == total.period_end:
                continue
            if total.covers(row):
                replaced.append(row)
            else:
                dates = {"start": total.period_start, "end": total.period_end, "old_start": row.period_start, "old_end": row.period_end}
                problems.append(str(OVERLAPS_STORED % {"norm": row.norm.code, **dates}))
    if problems:
        raise TotalsOverlap(problems)
    return list({row.pk: row for row in replaced}.values())


def store_totals(totals: list[ParsedTotal], *, meta: ImportMeta) -> ImportResult:
    """Store checked totals per period: new ones added, changed counts replaced, equal ones left alone."""
    with transaction.atomic():
        candidates = MeasurementTotal.objects.select_for_update().filter(
            norm_id__in={total.norm_id for total in totals}, period_start__in={total.period_start for total in totals}
        )
        existing = {(row.norm_id, row.period_start, row.period_end): row for row in candidates}
        replaced = _overlapped(totals)
        if problems := raw_beside_totals(_raw_days(totals), totals):
            raise TotalsOverlap(problems)
        new, changed = [], []
        for total in totals:
            row = existing.get(total.key)
            if row is None:
                new.append(MeasurementTotal(**vars(total), source=meta.source))
            elif (row.observations, row.within_target) != (total.observations, total.within_target):
                row.observations, row.within_target, row.source = total.observations, total.within_target, meta.source
                changed.append(row)
        MeasurementTotal.objects.filter(pk__in=[row.pk for row in replaced]).delete()
        MeasurementTotal.objects.bulk_create(new)
        MeasurementTotal.objects.bulk_update(changed, ["observations", "within_target", "source"])
        result = ImportResult(kind="totals", rows=len(totals), added=len(new), updated=len(changed), replaced=len(replaced))
        _log(meta, result)
    return result
