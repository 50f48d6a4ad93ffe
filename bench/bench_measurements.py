"""How fast a million measurements import, and the charter report over them, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev .venv/bin/python bench/bench_measurements.py [--rows 1000000] [--runs 5] [--keep]

It creates a throwaway database (``handvest_bench_meas_<pid>``, dropped at the end unless
``--keep``), migrates it and loads the Harlingen charter. It writes a CSV of ``--rows``
observations over 2025 (TEL-25SEC 60 %, BALIE-WACHTTIJD 20 %, BALIE-AFSPRAAK 10 %,
TEL-TERUGBELLEN 10 %; the same rows every run) and imports it through the real service, as
``manage.py import_measurements`` does: once (target: under 60 s), again (nothing new), and a
copy with one bad line at the end (refused whole, nothing stored). Then it times the charter
report of 2025 over those rows, the officer's latest attainment and one norm's panel, and prints
a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HANDVEST_TAG_ON_REGISTRATION", "false")
os.environ.setdefault("DJANGO_DEBUG", "false")
# Without debug the settings want a real secret key; a throwaway run gets a throwaway key.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("HANDVEST_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from throwaway import throwaway_database  # noqa: E402  (bench/, beside this script)

IMPORT_TARGET_S = 60
REPORT_TARGET_MS = 1000
# norm code: (share of the rows, typical value, spread) — values in the norm's unit.
MIX = {"TEL-25SEC": (0.6, 15.0, 12.0), "BALIE-WACHTTIJD": (0.2, 9.0, 6.0), "BALIE-AFSPRAAK": (0.1, 1.5, 1.0), "TEL-TERUGBELLEN": (0.1, 1.0, 1.0)}
START = datetime.datetime(2025, 1, 1, 8, 0)
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
SECONDS_IN_YEAR = 365 * 24 * 3600


def write_csv(path: Path, rows: int) -> None:
    """``rows`` observations over 2025, deterministic; local times without an offset, values with up to 3 decimals."""
    chooser = random.Random(2025)
    codes = list(MIX)
    weights = [MIX[code][0] for code in codes]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("norm,observed_at,value\n")
        for code in chooser.choices(codes, weights, k=rows):
            _share, typical, spread = MIX[code]
            moment = START + datetime.timedelta(seconds=chooser.randrange(SECONDS_IN_YEAR - 16 * 3600))
            if moment.replace(tzinfo=AMS, fold=0).utcoffset() != moment.replace(tzinfo=AMS, fold=1).utcoffset():
                moment += datetime.timedelta(hours=1)  # the hour the clock skips or shows twice: the import asks for an offset there
            value = max(0.0, chooser.gauss(typical, spread))
            handle.write(f"{code},{moment:%Y-%m-%dT%H:%M:%S},{value:.3f}\n")


def timed(function: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median milliseconds over ``runs`` runs after one warm-up, and the last result."""
    result = function()
    durations = []
    for _run in range(runs):
        started = time.perf_counter()
        result = function()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), result


def import_once(path: Path) -> tuple[float, float, object]:
    """Seconds in total and for storing (after every line was read and checked), and the result."""
    from cases.measurements.importing import measurements_import

    marks = {}

    def progress(_rows: int, stage: str) -> None:
        marks.setdefault(stage, time.perf_counter())

    started = time.perf_counter()
    with path.open("rb") as stream:
        result = measurements_import(stream=stream, file_name=path.name, source="telephony", progress=progress)
    ended = time.perf_counter()
    return ended - started, ended - marks.get("opslaan", ended), result


def refuse_once(path: Path) -> tuple[float, int]:
    from cases.measurements.importing import MeasurementFileRefused, measurements_import

    started = time.perf_counter()
    try:
        with path.open("rb") as stream:
            measurements_import(stream=stream, file_name=path.name, source="telephony")
    except MeasurementFileRefused as exc:
        return time.perf_counter() - started, len(exc.problems)
    raise SystemExit("the bad file was not refused")


def measure_imports(args, folder: Path) -> list[tuple[str, str, str]]:
    from cases.models import Measurement

    path = folder / "metingen.csv"
    started = time.perf_counter()
    write_csv(path, args.rows)
    print(f"  wrote {args.rows:,} rows ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s", flush=True)
    first_s, store_s, first = import_once(path)
    again_s, _store, again = import_once(path)
    bad = folder / "metingen-fout.csv"
    bad.write_bytes(path.read_bytes() + b"TEL-99,2025-12-31T12:00:00,snel\n")
    refused_s, problems = refuse_once(bad)
    stored = Measurement.objects.count()
    assert (first.added, again.added, stored) == (args.rows, 0, args.rows), (first, again, stored)
    totals = folder / "dagtotalen.csv"
    write_daily_totals(totals, TOTAL_LINES)
    totals_s, _store, totals_first = import_once(totals)
    totals_again_s, _store, totals_again = import_once(totals)
    assert (totals_first.added, totals_again.added, totals_again.replaced) == (TOTAL_LINES, 0, 0), (totals_first, totals_again)
    return [
        (f"import {args.rows:,} rows (read, check, COPY, insert)", f"{first_s:.1f} s", f"{first.added:,} new; storing took {store_s:.1f} s"),
        ("import the same file again", f"{again_s:.1f} s", f"{again.added} new, {again.unchanged:,} already there"),
        ("a copy with one bad line at the end", f"{refused_s:.1f} s", f"refused, {problems} line listed, {stored:,} rows as before"),
        (f"import {TOTAL_LINES:,} daily totals (four norms, 2018–2024)", f"{totals_s:.1f} s", f"{totals_first.added:,} new (periods checked for overlap)"),
        ("import the same totals again", f"{totals_again_s:.1f} s", f"0 new, {totals_again.unchanged:,} already there"),
    ], first_s


TOTAL_LINES = 10_000


def write_daily_totals(path: Path, lines: int) -> None:
    """A phone exchange's daily totals of four norms, one line per norm and day, back from the end of 2024 (2025 has
    the single observations, and a total on the same days is refused)."""
    codes = ("TEL-25SEC", "BALIE-WACHTTIJD", "BALIE-AFSPRAAK", "TEL-TERUGBELLEN")
    days = [datetime.date(2024, 12, 31) - datetime.timedelta(days=n) for n in range(lines // len(codes))]
    rows = [f"{code},{day},{day},100,90\n" for day in reversed(days) for code in codes]
    path.write_text("norm,period_start,period_end,observations,within_target\n" + "".join(rows), encoding="utf-8")


def measure_reports(args) -> list[tuple[str, str, str]]:
    from cases.measurements.attainment import latest_attainment, norm_attainment
    from cases.measurements.charter_report import charter_report_build, charter_report_to_json, charter_report_to_pdf
    from cms.models import ServiceNorm

    as_of = datetime.date(2026, 1, 15)
    rows = []
    norm = ServiceNorm.objects.filter(code="TEL-25SEC")
    for label, function in (
        ("charter report 2025, JSON (29 norms, every period)", lambda: charter_report_to_json(charter_report_build(year=2025, as_of=as_of, charts=False))),
        ("charter report 2025 with charts (the public page's data)", lambda: charter_report_build(year=2025, as_of=as_of)),
        ("officer's latest attainment (every measured norm)", lambda: latest_attainment(as_of=as_of)),
        (
            "one norm, twelve months (editor's panel)",
            lambda: norm_attainment(start=datetime.date(2025, 1, 1), end=datetime.date(2026, 1, 1), norms=norm, as_of=as_of),
        ),
    ):
        median_ms, _result = timed(function, args.runs)
        rows.append((label, f"{median_ms:.0f} ms", "within 1 s" if median_ms <= REPORT_TARGET_MS else "OVER 1 s"))
    started = time.perf_counter()
    pdf = charter_report_to_pdf(charter_report_build(year=2025, as_of=as_of))
    rows.append(("charter report 2025 as PDF (WeasyPrint, once)", f"{time.perf_counter() - started:.1f} s", f"{len(pdf) / 1024:.0f} KiB"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench_measurements needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev", file=sys.stderr)
        return 2
    from cms.charter_loading import load_charter

    with throwaway_database("handvest_bench_meas", keep=args.keep):
        load_charter(path=ROOT / "cms" / "charters" / "harlingen-2017.yaml")
        with tempfile.TemporaryDirectory() as folder:
            import_rows, import_s = measure_imports(args, Path(folder))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        report_rows = measure_reports(args)
        print(f"\nmeasurements on PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs; reports: median of {args.runs} runs after a warm-up\n")
        width = max(len(row[0]) for row in import_rows + report_rows)
        print(f"| {'what':<{width}} | time | result |")
        print(f"| {'-' * width} | ---:| --- |")
        for label, duration, note in import_rows + report_rows:
            print(f"| {label:<{width}} | {duration} | {note} |")
        print(f"\nimport of {args.rows:,} rows: {import_s:.1f} s, {'within' if import_s <= IMPORT_TARGET_S else 'OVER'} the target of {IMPORT_TARGET_S} s")
        return 0 if import_s <= IMPORT_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
