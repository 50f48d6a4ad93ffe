"""How fast the editors' aggregates answer over 1,000,000 cases on PostgreSQL (target: 1 s each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev .venv/bin/python bench/bench_aggregates.py [--cases 1000000] [--runs 5] [--keep]

It creates a throwaway database (``handvest_bench_agg_<pid>``, dropped at the end unless
``--keep``), migrates it, loads the Harlingen charter, and loads the cases straight into the real
tables with ``INSERT … SELECT generate_series`` (registrations, cases, norm tags, extension events;
every foreign key valid), spread over five years (2021–2025). It then rebuilds the derived tables
(``cases.reporting.rollup``, as the nightly task does), and times each aggregate the editors'
pages and the annual report use, against a bare SQL ``GROUP BY`` over the same raw rows that
gives the same cells. It prints a markdown table: median of the runs after a warm-up, the bare
query's median, their ratio, and whether the aggregate stays within the target.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HANDVEST_TAG_ON_REGISTRATION", "false")
os.environ.setdefault("DJANGO_DEBUG", "false")
# Production settings refuse the development key; a throwaway one for this run.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(32).hex())
os.environ.setdefault("HANDVEST_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

TARGET_MS = 1000
FIRST_DAY = datetime.date(2021, 1, 1)
DAYS = 5 * 365

# h(x, salt, m): a deterministic "random" number 0 … m-1 per row, so every run loads the same data.
LOAD_SQL = [
    """
    INSERT INTO cases_registration
        (number, received_on, registered_at, channel, kind, subject, text, sender_name, sender_email, sender_phone,
         sender_address, email_undeliverable, reply_channel, content_hash, triage_state)
    SELECT 'BEN-' || lpad(i::text, 8, '0'),
           %(first)s::date + h(i, 'day', %(days)s),
           (%(first)s::date + h(i, 'day', %(days)s))::timestamp + interval '9 hours',
           (ARRAY['web', 'email', 'email', 'letter', 'phone', 'counter'])[1 + h(i, 'channel', 6)],
           CASE WHEN h(i, 'kind', 100) < 80 THEN 'complaint' ELSE 'suggestion' END,
           'Benchmark', 'Tekst van de benchmark', 'Inwoner ' || i, 'inwoner' || i || '@example.invalid', '', '',
           false, 'email', '', ''
    FROM generate_series(1, %(total)s) AS i
    """,
    """
    INSERT INTO cases_case
        (registration_id, kind, state, acknowledgement_due, answer_due, extended_answer_due, extension_reason, callback_due,
         acknowledged_at, hearing_on, hearing_waiver, explained_at, answered_at, closed_at, outcome, decline_ground,
         forwarded_to, public_token, public_token_revoked, assigned_to_id, merged_into_id)
    SELECT r.id, r.kind, s.state, r.received_on + 6, r.received_on + 42,
           CASE WHEN s.extended THEN r.received_on + 70 END,
           CASE WHEN s.extended THEN 'Benchmark' ELSE '' END, NULL,
           CASE WHEN h(r.id, 'ack', 100) < 92 THEN r.registered_at + h(r.id, 'ackdays', 8) * interval '1 day' END,
           NULL, '', NULL,
           CASE WHEN s.state = 'closed' THEN r.registered_at + (3 + h(r.id, 'answer', 75)) * interval '1 day' END,
           CASE WHEN s.state = 'closed' THEN r.registered_at + (4 + h(r.id, 'answer', 75)) * interval '1 day' END,
           CASE WHEN s.state <> 'closed' THEN ''
                WHEN r.kind = 'suggestion' THEN (ARRAY['adopted', 'next_revision', 'declined'])[1 + h(r.id, 'outcome', 3)]
                ELSE (ARRAY['gegrond', 'deels_gegrond', 'ongegrond', 'ongegrond', 'geen_oordeel', 'informeel_opgelost'])[1 + h(r.id, 'outcome', 6)]
           END,
           '', '', md5('bench' || r.id), false, NULL, NULL
    FROM cases_registration r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.received_on > %(last)s::date - 60 AND h(r.id, 'open', 100) < 60 THEN 'in_treatment' ELSE 'closed' END AS state,
               h(r.id, 'extended', 100) < 6 AS extended
    ) s
    """,
    """
    INSERT INTO cases_caseevent (case_id, at, kind, name, from_state, to_state, note, internal, data, actor_id)
    SELECT c.id, r.registered_at + (30 + h(c.id, 'extend', 20)) * interval '1 day', 'extended', 'extend', '', '', 'Benchmark', true, '{}', NULL
    FROM cases_case c JOIN cases_registration r ON r.id = c.registration_id
    WHERE c.extended_answer_due IS NOT NULL
    """,
    """
    INSERT INTO cases_casenorm (case_id, norm_id, score, model_version, explanation, source, status, created_at, decided_by_id, decided_at)
    SELECT c.id, n.norm_id, 0.5, 'bench', '[]', 'tagger',
           CASE WHEN h(c.id, 'status' || n.slot, 100) < 80 THEN 'confirmed' WHEN h(c.id, 'status' || n.slot, 100) < 95 THEN 'suggested' ELSE 'rejected' END,
           now(), NULL, NULL
    FROM cases_case c
    CROSS JOIN LATERAL (
        SELECT slot, norms.ids[1 + (h(c.id, 'norm', norms.n) + slot * 7) %% norms.n] AS norm_id
        FROM (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM cms_servicenorm) norms,
             generate_series(0, CASE WHEN h(c.id, 'second', 100) < 30 THEN 1 ELSE 0 END) AS slot
    ) n
    """,
]

BARE_CUBE_SQL = """
    SELECT cn.norm_id, date_trunc('month', r.received_on) AS month, c.kind, r.channel, c.outcome, cn.status, count(*)
    FROM cases_casenorm cn
    JOIN cases_case c ON c.id = cn.case_id
    JOIN cases_registration r ON r.id = c.registration_id
    WHERE cn.status IN ('confirmed', 'suggested') AND c.merged_into_id IS NULL
      AND r.received_on >= %s AND r.received_on < %s
    GROUP BY 1, 2, 3, 4, 5, 6
"""
BARE_COMPLIANCE_SQL = """
    SELECT c.kind,
           count(*) FILTER (WHERE (c.acknowledged_at AT TIME ZONE 'Europe/Amsterdam')::date <= c.acknowledgement_due),
           count(*) FILTER (WHERE (c.answered_at AT TIME ZONE 'Europe/Amsterdam')::date <= c.answer_due),
           count(*) FILTER (WHERE (c.answered_at AT TIME ZONE 'Europe/Amsterdam')::date <= coalesce(c.extended_answer_due, c.answer_due)),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (c.answered_at AT TIME ZONE 'Europe/Amsterdam')::date - r.received_on),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY (c.answered_at AT TIME ZONE 'Europe/Amsterdam')::date - r.received_on)
    FROM cases_case c JOIN cases_registration r ON r.id = c.registration_id
    WHERE c.merged_into_id IS NULL AND r.received_on >= %s AND r.received_on < %s
    GROUP BY 1
"""


def populate(total: int) -> None:
    from cms.charter_loading import load_charter

    load_charter(path=ROOT / "cms" / "charters" / "harlingen-2017.yaml")
    params = {"total": total, "first": FIRST_DAY, "days": DAYS, "last": FIRST_DAY + datetime.timedelta(days=DAYS)}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION h(x bigint, salt text, m int) RETURNS int AS "
            "$$ SELECT abs(hashtext(x::text || salt)) % m $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        )
        for step, sql in zip(("registrations", "cases", "extension events", "norm tags"), LOAD_SQL, strict=True):
            started = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {step:<17} {cursor.rowcount:>10,} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        cursor.execute("ANALYZE")


def timed(function: Callable[[], object], runs: int) -> tuple[float, object]:
    result = function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def bare(sql: str, start: datetime.date, end: datetime.date) -> Callable[[], list]:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, [start, end])
            return cursor.fetchall()

    return run


def size_of(result) -> int:
    if isinstance(result, list | tuple | dict):
        return len(result)
    return 1


def per_case_refresh_ms(refresh_cases, month: datetime.date, samples: int = 200) -> float:
    """Median time to count one changed case into the derived tables, in a month of about 1/60 of all cases."""
    from cases.models import CaseNorm

    tags = list(CaseNorm.objects.filter(case__registration__received_on__gte=month, case__registration__received_on__lt=month.replace(month=month.month + 1))
                .order_by("pk").values_list("pk", "case_id", "status")[:samples])
    times = []
    for pk, case_id, status in tags:
        CaseNorm.objects.filter(pk=pk).update(status="confirmed" if status == "suggested" else "suggested")
        started = time.perf_counter()
        refresh_cases([case_id])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database kept by an earlier --keep run (no loading)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench_aggregates needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev", file=sys.stderr)
        return 2
    from cases.reporting import aggregates, compliance
    from cases.reporting.increments import refresh_cases
    from cases.reporting.report import report_build
    from cases.reporting.rollup import rollup_refresh

    original_name = connection.settings_dict["NAME"]
    if args.reuse:
        connection.close()
        connection.settings_dict["NAME"] = args.reuse
        args.keep = True
    else:
        # Its own name, so it never touches the database of a test run going on at the same time.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"handvest_bench_agg_{os.getpid()}"
        print(f"creating the benchmark database {connection.settings_dict['TEST']['NAME']} and migrating it ...", flush=True)
        connection.creation.create_test_db(verbosity=0, autoclobber=False, keepdb=False)
    try:
        if not args.reuse:
            print(f"loading {args.cases:,} cases with INSERT … SELECT generate_series ...", flush=True)
            populate(args.cases)
        from cases.models import Case

        args.cases = Case.objects.count()
        started = time.perf_counter()
        refreshed = rollup_refresh(months=None)
        rebuild_s = time.perf_counter() - started
        started = time.perf_counter()
        rollup_refresh(months=[datetime.date(2025, 6, 1)])
        month_ms = (time.perf_counter() - started) * 1000
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"  derived tables: {refreshed.facts:,} case facts, {refreshed.norm_rows:,} norm rows; full rebuild {rebuild_s:.1f} s, one month {month_ms:.0f} ms"
        )
        case_ms = per_case_refresh_ms(refresh_cases, datetime.date(2025, 6, 1))
        print(f"  one changed case (a tag confirmed, then counted incrementally): median {case_ms:.1f} ms; a recount of its month {month_ms:.0f} ms")

        year, all_years = (datetime.date(2025, 1, 1), datetime.date(2026, 1, 1)), (FIRST_DAY, datetime.date(2026, 1, 1))
        as_of = datetime.date(2026, 1, 15)
        code = "POST-REACTIE"
        rows = [
            (
                "norm × month × kind × channel × outcome, one year",
                lambda: aggregates.norm_counts(start=year[0], end=year[1], period="month", by=("kind", "channel", "outcome")),
                bare(BARE_CUBE_SQL, *year),
            ),
            (
                "norm × quarter × kind × channel × outcome, five years",
                lambda: aggregates.norm_counts(start=all_years[0], end=all_years[1], period="quarter", by=("kind", "channel", "outcome")),
                bare(BARE_CUBE_SQL, *all_years),
            ),
            (
                "revision dashboard: every norm, 2025 against 2024",
                lambda: aggregates.norm_overview(period="2025"),
                bare(BARE_CUBE_SQL, datetime.date(2024, 1, 1), year[1]),
            ),
            (
                "one norm per month, five years (editor's panel)",
                lambda: aggregates.norm_series(code=code, period="month", start=all_years[0], end=all_years[1]),
                bare(BARE_CUBE_SQL, *all_years),
            ),
            ("top norms by complaints, 2025", lambda: aggregates.top_norms(period="2025"), bare(BARE_CUBE_SQL, *year)),
            ("compliance, one year", lambda: compliance.compliance_figures(start=year[0], end=year[1], as_of=as_of), bare(BARE_COMPLIANCE_SQL, *year)),
            (
                "compliance, five years",
                lambda: compliance.compliance_figures(start=all_years[0], end=all_years[1], as_of=as_of),
                bare(BARE_COMPLIANCE_SQL, *all_years),
            ),
            ("whole annual report 2025 (all tables)", lambda: report_build(year=2025, as_of=as_of), None),
        ]
        results = []
        for label, ours, bare_query in rows:
            ours_ms, result = timed(ours, args.runs)
            bare_ms = timed(bare_query, args.runs)[0] if bare_query else None
            results.append((label, ours_ms, bare_ms, size_of(result)))
            print(f"  measured: {label}", flush=True)
        width = max(len(row[0]) for row in results)
        print(f"\naggregates over {args.cases:,} cases on PostgreSQL {connection.pg_version // 10000}; median of {args.runs} runs after a warm-up\n")
        print(f"| {'aggregate':<{width}} | ours ms | bare SQL GROUP BY ms | ratio | within {TARGET_MS} ms |")
        print(f"| {'-' * width} | -------:| --------------------:| -----:|:------------:|")
        for label, ours_ms, bare_ms, _size in results:
            ratio = f"{ours_ms / bare_ms:.3f}" if bare_ms else "—"
            bare_text = f"{bare_ms:.0f}" if bare_ms is not None else "—"
            print(f"| {label:<{width}} | {ours_ms:7.1f} | {bare_text:>20} | {ratio:>5} | {'yes' if ours_ms <= TARGET_MS else 'NO':^12} |")
        worst = max(row[1] for row in results)
        print(f"\nslowest aggregate {worst:.0f} ms: {'within' if worst <= TARGET_MS else 'OVER'} the target of {TARGET_MS} ms")
        return 0 if worst <= TARGET_MS else 1
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(original_name, verbosity=0)
        else:
            print(f"kept the database {connection.settings_dict['NAME']}")


if __name__ == "__main__":
    sys.exit(main())
