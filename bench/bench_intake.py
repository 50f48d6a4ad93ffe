"""What registering a case costs, beside a bare Django view that INSERTs one row (issue 20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_intake.py [--cases 200] [--month 1000,100000] [--json]

It makes a throwaway database (``handvest_bench_intake_<pid>``, dropped afterwards), migrates it and
loads the Harlingen charter, and then posts through Django's test client, with the whole middleware
stack, one request per case: the bare view (one INSERT), the web form, the signed Mailgun webhook
(both with a broker: the tasks go to Redis, as in production, and are purged afterwards), and the web
form with Celery eager (``make run``: acknowledgement, aggregates and everything else in this process,
after the response; tagging off, it is measured by ``bench_tagger``). Each request follows one of the
bare view, so that a machine slowing down or speeding up during the run weighs on both sides of the
ratios; the ratios are to the bare requests made beside the broker paths (``bare_medians``).

It prints, per path, the median milliseconds until the response is ready (a WSGI server sends it
then), the same with the work eager mode runs after the response (in the response's ``close()``,
``cases.dispatch``), both as ratios to the bare view, and the median number of SQL queries per
registered case. With ``--json``: one object with ``webform_ratio``, ``webhook_ratio``,
``eager_ratio`` (until the response), ``eager_total_ratio`` (with the work after it) and
``queries_per_case``.

``--month 1000,100000`` then fills the current month with that many earlier cases (straight into the
tables in SQL, counted by the nightly rebuild) and measures the eager web form again at each size:
the whole cost per case should not grow with its month (``eager_month_growth``: largest ÷ smallest).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HANDVEST_LOG_LEVEL", "WARNING")
os.environ["HANDVEST_TAG_ON_REGISTRATION"] = "false"
os.environ["HANDVEST_FORM_RATE_LIMIT"] = "1000000"
os.environ["HANDVEST_FORM_RATE_LIMIT_EMAIL"] = "0"
os.environ["HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES"] = "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import ClientHandler  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from throwaway import throwaway_database  # noqa: E402  (bench/, beside this script)

import config.wsgi  # noqa: E402,F401  (this process is a web process, as gunicorn's: webhook mail is stored, a worker registers it)

SIGNING_KEY = "key-bench-intake-0123456789abcdef01"


@csrf_exempt
def bare(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (payload, at) VALUES (%s, now())", [request.POST.get("text", "")])
    return HttpResponse(status=204)


urlpatterns = [path("bench/bare/", bare), path("", include("config.urls"))]


class StampedHandler(ClientHandler):
    """The test client's handler, noting when the response is ready: a WSGI server sends it then and
    only afterwards calls its ``close()``, where eager mode runs the request's tasks (``cases.dispatch``)."""

    responded_at = 0.0

    def get_response(self, request):
        response = super().get_response(request)
        self.responded_at = time.perf_counter()
        return response


def stamped_client() -> Client:
    client = Client()
    client.handler = StampedHandler(enforce_csrf_checks=False)
    return client


@dataclass
class Timing:
    """Medians over one path's requests; the bare view's requests made alternately with them."""

    ms: float  # until the response
    total: float  # with the work after the response
    queries: float
    bare: list[tuple[float, float, int]]


def one(client: Client, post, number: int, show: bool = False) -> tuple[float, float, int]:
    """(ms until the response, ms with the work after it, SQL statements) of one request."""
    reset_queries()  # the query log keeps 9,000 entries; a full one would count nothing
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        post(number)
        ended = time.perf_counter()
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    if show:
        print("\n".join(f"    {sql[:150]}" for sql in statements))
    return (client.handler.responded_at - started) * 1000, (ended - started) * 1000, len(statements)


def timed(client: Client, post, bare_post, count: int, show: bool = False) -> Timing:
    """``count`` requests of ``post``, each after one of the bare view: a machine that slows down or
    speeds up during the run (other jobs, CPU frequency) weighs on both sides of the ratio alike."""
    path, bare = [], []
    for number in range(count):
        bare.append(one(client, bare_post, number))
        path.append(one(client, post, number, show=show and number == 0))

    def median(samples, index):
        return statistics.median(sample[index] for sample in samples)

    return Timing(ms=median(path, 0), total=median(path, 1), queries=median(path, 2), bare=bare)


def bare_medians(results: dict[str, Timing]) -> tuple[float, float]:
    """The bare view's median (ms until the response, ms with close()) over its requests made beside the
    broker paths. Not beside eager: the work after an eager response makes the next request slower (a
    garbage collection it leaves), which would flatter eager's ratio."""
    samples = [sample for name in ("bare", "webform", "webhook") for sample in results[name].bare]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def posts(client: Client, run: str):
    def bare_post(number: int) -> None:
        assert client.post("/bench/bare/", {"text": f"melding {number}"}).status_code == 204

    def webform_post(number: int) -> None:
        data = {"kind": "complaint", "description": f"Ik heb {number} minuten aan de balie gewacht ({run}).", "name": f"Inwoner {number}",
                "email": f"inwoner{number}.{run}@example.nl", "address": "", "phone": "", "hint": "", "website": ""}
        assert client.post("/melding/", data).status_code == 302

    def webhook_post(number: int) -> None:
        raw = (f"From: Beller {number} <beller{number}.{run}@example.nl>\r\nTo: info@harlingen.nl\r\nSubject: Klacht telefoon\r\n"
               f"Message-ID: <bench-{run}-{number}@example.nl>\r\n\r\nIk hing {number} minuten in de wacht; dit is een klacht.\r\n")
        timestamp, token = str(int(time.time())), hashlib.sha256(f"{run}{number}".encode()).hexdigest()
        signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
        data = {"body-mime": raw, "timestamp": timestamp, "token": token, "signature": signature}
        assert client.post("/anymail/mailgun/inbound_mime/", data).status_code == 200

    return bare_post, webform_post, webhook_post


def measure(count: int) -> dict:
    from config.celery import app

    client = stamped_client()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload text, at timestamptz)")
    results = {}
    app.conf.task_always_eager = False
    try:
        bare_post, webform_post, webhook_post = posts(client, "broker")
        for name, post in (("bare", bare_post), ("webform", webform_post), ("webhook", webhook_post)):
            post(10_000 + 1)  # warm-up: imports, caches, the first connection
            results[name] = timed(client, post, bare_post, count, show=os.environ.get("BENCH_SHOW_QUERIES") == name)
            print(f"  measured: {name}", flush=True)
    finally:
        app.control.purge()
    app.conf.task_always_eager = True
    _bare, eager_post, _hook = posts(client, "eager")
    eager_post(10_000 + 1)
    results["eager"] = timed(client, eager_post, bare_post, count, show=os.environ.get("BENCH_SHOW_QUERIES") == "eager")
    print("  measured: eager", flush=True)
    return results


# --- the eager cost per case against the size of its month -------------------------------------------
FILL_SQL = [
    """
    INSERT INTO cases_registration (number, received_on, registered_at, channel, kind, subject, text, sender_name, sender_email,
                                    sender_phone, sender_address, email_undeliverable, reply_channel, content_hash, triage_state)
    SELECT 'VUL-' || lpad(i::text, 8, '0'), %(first)s::date + (i %% %(days)s), (%(first)s::date + (i %% %(days)s))::timestamp + interval '9 hours',
           (ARRAY['web', 'email', 'letter', 'phone', 'counter'])[1 + i %% 5], CASE WHEN i %% 5 = 0 THEN 'suggestion' ELSE 'complaint' END,
           'Vulling', 'Tekst van een eerdere melding', 'Inwoner ' || i, 'vul' || i || '@example.invalid', '', '', false, 'email', '', ''
    FROM generate_series(%(start)s, %(stop)s) AS i
    """,
    """
    INSERT INTO cases_case (registration_id, kind, state, acknowledgement_due, answer_due, extension_reason, hearing_waiver, hearing_report,
                            complained_about, outcome, decline_ground, forwarded_to, public_token, public_token_revoked, acknowledged_at)
    SELECT r.id, r.kind, 'in_treatment', r.received_on + 6, r.received_on + 42, '', '', '', '', '', '', '', md5('vul' || r.id), false,
           r.registered_at + interval '1 day'
    FROM cases_registration r
    WHERE r.number LIKE 'VUL-%%' AND NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.registration_id = r.id)
    """,
    """
    INSERT INTO cases_casenorm (case_id, norm_id, score, model_version, explanation, source, status, created_at)
    SELECT c.id, norms.ids[1 + c.id %% norms.n], 0.5, 'bench', '[]', 'tagger', 'confirmed', now()
    FROM cases_case c, (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM cms_servicenorm) norms
    WHERE NOT EXISTS (SELECT 1 FROM cases_casenorm t WHERE t.case_id = c.id)
    """,
]


def month_filled_to(total: int, already: int) -> None:
    """Fill this month with earlier cases (one norm tag each) up to ``total``, and count them as the nightly rebuild does."""
    from django.utils import timezone

    from cases.reporting.rollup import rollup_refresh

    today = timezone.localdate()
    params = {"first": today.replace(day=1), "days": today.day, "start": already + 1, "stop": total}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in FILL_SQL:
            cursor.execute(sql, params)
        cursor.execute("ANALYZE")
    rollup_refresh(months=None)
    print(f"  month filled to {total:,} cases in {time.perf_counter() - started:.1f} s", flush=True)


def eager_by_month(sizes: list[int], count: int) -> dict[int, Timing]:
    """The eager web form's (ms to the response, statements, ms with the work after it) per case with
    ``size`` earlier cases in its month, for each size."""
    from config.celery import app

    client = stamped_client()
    app.conf.task_always_eager = True
    results, filled = {}, 0
    for size in sorted(sizes):
        month_filled_to(size, filled)
        filled = size
        bare_post, eager_post, _hook = posts(client, f"month{size}")
        eager_post(20_000 + 1)
        results[size] = timed(client, eager_post, bare_post, count)
        print(f"  measured: eager with {size:,} cases in the month", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--month", default="", help="also: the eager cost with this many earlier cases in the month, e.g. 1000,100000 (filled in SQL)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.month.split(",") if size.strip()]
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        print("bench_intake needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…", file=sys.stderr)
        return 2
    from django.core.management import call_command

    with throwaway_database("handvest_bench_intake"):
        call_command("load_charter", "--if-empty", str(ROOT / "cms" / "charters" / "harlingen-2017.yaml"), verbosity=0)
        anymail = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": ""}
        with override_settings(ROOT_URLCONF=__name__, ANYMAIL=anymail, DEBUG=False):
            results = measure(args.cases)
            by_month = eager_by_month(sizes, min(args.cases, 100)) if sizes else {}
    names = ("webform", "webhook", "eager")
    bare_ms, bare_total = bare_medians(results)
    summary = {
        "cases": args.cases,
        "bare_ms": round(bare_ms, 2),
        **{f"{name}_ms": round(results[name].ms, 2) for name in names},
        **{f"{name}_ratio": round(results[name].ms / bare_ms, 2) for name in names},
        # Eager mode runs the request's tasks after its response: the whole cost per case in this process.
        "eager_total_ms": round(results["eager"].total, 2),
        "eager_total_ratio": round(results["eager"].total / bare_total, 2),
        "queries_per_case": {name: results[name].queries for name in ("bare", *names)},
    }
    if by_month:
        # The counts run after the response: their growth with the month shows in the whole cost.
        summary["eager_total_ms_by_month_size"] = {str(size): round(timing.total, 2) for size, timing in by_month.items()}
        summary["eager_ms_by_month_size"] = {str(size): round(timing.ms, 2) for size, timing in by_month.items()}
        summary["eager_queries_by_month_size"] = {str(size): timing.queries for size, timing in by_month.items()}
        smallest, largest = min(by_month), max(by_month)
        summary["eager_month_growth"] = round(by_month[largest].total / by_month[smallest].total, 2)
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"\nintake on PostgreSQL with Redis, median of {args.cases} requests each, each after one of the bare view")
    print("(Django test client, whole middleware stack; the ratios are to the bare view's requests beside the broker paths)\n")
    print("| path | ms until the response | × bare view | ms with the work after it | × bare view | SQL queries per case |")
    print("| --- | ---:| ---:| ---:| ---:| ---:|")
    labels = {"bare": "bare view: one INSERT", "webform": "web form, broker", "webhook": "Mailgun webhook, broker", "eager": "web form, Celery eager"}
    for name, label in labels.items():
        timing = results[name]
        print(f"| {label} | {timing.ms:.1f} | {timing.ms / bare_ms:.1f} | {timing.total:.1f} | {timing.total / bare_total:.1f} | {timing.queries:.0f} |")
    if by_month:
        print("\n| earlier cases in the month | eager ms until the response | × bare view | eager ms with the work after it | × bare view | SQL queries |")
        print("| ---:| ---:| ---:| ---:| ---:| ---:|")
        for size, timing in sorted(by_month.items()):
            print(f"| {size:,} | {timing.ms:.1f} | {timing.ms / bare_ms:.1f} | {timing.total:.1f} | {timing.total / bare_total:.1f} | {timing.queries:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
