"""How fast the officers' inbox answers with 100,000 cases on PostgreSQL (target: 300 ms a page).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev .venv/bin/python bench/bench_case_list.py [--cases 100000] [--runs 7]

It creates a throwaway database (``handvest_bench_<pid>``, dropped at the end), migrates it, loads the
Harlingen charter, bulk-creates the cases (registrations, cases, norm tags) in batches, runs
ANALYZE, and then asks the real inbox view, through Django's test client with an officer logged
in, for a set of typical pages. It prints one row per page: the median and slowest time of the
runs (after one warm-up), the number of queries, and how many cases matched.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HANDVEST_TAG_ON_REGISTRATION", "false")
os.environ.setdefault("DJANGO_DEBUG", "false")
# Production settings refuse the development key; a throwaway one for this run.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(32).hex())
# The test client speaks plain http: no redirect to https here.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment  # noqa: E402
from throwaway import throwaway_database  # noqa: E402  (bench/, beside this script)

# Pages name their static files; without DEBUG that needs collectstatic's manifest, which this run has not made.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()

TARGET_MS = 300
RARE = 0.02  # the share of texts that mention a passport: what a search for one word finds
BATCH = 5_000
SUBJECTS = [
    "Wachttijd aan de balie",
    "Telefoon niet opgenomen",
    "Parkeervergunning kwijt",
    "Website werkt niet op mijn telefoon",
    "Onvriendelijk te woord gestaan",
    "Geen ontvangstbevestiging gekregen",
    "Afspraak online maken lukt niet",
    "Idee: openingstijden op de voorpagina",
]
WORDS = [
    "gemeente",
    "balie",
    "wachten",
    "telefoon",
    "website",
    "afspraak",
    "brief",
    "antwoord",
    "medewerker",
    "rijbewijs",
    "loket",
    "formulier",
    "vergunning",
]
FIRST = ["Jan", "Piet", "Els", "Anneke", "Sietske", "Fatima", "Mohamed", "Johan", "Klaas", "Grietje"]
LAST = ["de Vries", "Bakker", "Hoekstra", "Zijlstra", "Visser", "El Amrani", "Dijkstra", "Postma", "de Jong", "Kuipers"]


def pages(officer_number: str) -> list[tuple[str, dict]]:
    return [
        ("open cases, next deadline first, 25 a page", {}),
        ("same, 100 a page", {"per_page": 100}),
        ("page 40 of the open cases", {"p": 40}),
        ("all cases (also closed), 50 a page", {"state": "all", "per_page": 50}),
        ("overdue", {"deadline": "overdue"}),
        ("due within 5 working days", {"deadline": "soon"}),
        ("assigned to me", {"assigned": "me"}),
        ("unassigned complaints by e-mail", {"assigned": "nobody", "kind": "complaint", "channel": "email"}),
        ("norm TEL-25SEC", {"norm": "TEL-25SEC"}),
        ("search a word of the text, all cases", {"q": "paspoort", "state": "all"}),
        ("search a registration number", {"q": officer_number, "state": "all"}),
        ("search a sender's name", {"q": "Zijlstra", "state": "all"}),
    ]


def populate(total: int, seed: int = 42) -> str:
    """Bulk-create ``total`` cases with registrations and norm tags; return one registration number."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from cases.models import Case, CaseNorm, CaseState, Registration, RegistrationCounter, TagStatus, new_public_token
    from cms.charter_loading import load_charter
    from cms.models import ServiceNorm

    rng = random.Random(seed)
    load_charter(path=ROOT / "cms" / "charters" / "harlingen-2017.yaml")
    norms = list(ServiceNorm.objects.all())
    officer = get_user_model().objects.create_user(username="bench-officer", password="bench-wachtwoord-123")
    officer.groups.add(Group.objects.get(name="Kwaliteitsmedewerkers"))
    colleagues = [officer] + [get_user_model().objects.create_user(username=f"bench-{i}") for i in range(4)]
    today = datetime.date.today()
    open_states = [CaseState.RECEIVED, CaseState.ACKNOWLEDGED, CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED]
    channels = ["web", "email", "letter", "phone", "counter"]
    created = 0
    started = time.perf_counter()
    while created < total:
        size = min(BATCH, total - created)
        registrations = []
        for index in range(created, created + size):
            received = today - datetime.timedelta(days=rng.randint(0, 730))
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            registrations.append(
                Registration(
                    number=f"HLG-{received.year}-{index + 1:06d}",
                    received_on=received,
                    channel=rng.choice(channels),
                    kind="complaint" if rng.random() < 0.8 else "suggestion",
                    subject=rng.choice(SUBJECTS),
                    text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 120))) + (" paspoort verlopen" if rng.random() < RARE else ""),
                    sender_name=name,
                    sender_email=f"{name.split()[0].lower()}{index}@example.nl" if rng.random() < 0.8 else "",
                    sender_address="Voorstraat 1\n8861 BJ Harlingen",
                )
            )
        Registration.objects.bulk_create(registrations, batch_size=BATCH)
        cases = []
        for registration in registrations:
            # Most cases of the past two years are closed; the recent ones are open.
            age = (today - registration.received_on).days
            is_open = age < 60 or rng.random() < 0.02
            state = rng.choice(open_states) if is_open else CaseState.CLOSED
            cases.append(
                Case(
                    registration=registration,
                    kind=registration.kind,
                    state=state,
                    acknowledgement_due=registration.received_on + datetime.timedelta(days=6),
                    answer_due=registration.received_on + datetime.timedelta(weeks=6),
                    assigned_to=rng.choice(colleagues) if state != CaseState.RECEIVED and rng.random() < 0.9 else None,
                    public_token=new_public_token(),
                )
            )
        Case.objects.bulk_create(cases, batch_size=BATCH)
        tags = []
        for case in cases:
            for norm in rng.sample(norms, rng.randint(1, 3)):
                status = TagStatus.SUGGESTED if case.state != CaseState.CLOSED else rng.choice([TagStatus.CONFIRMED, TagStatus.REJECTED])
                tags.append(CaseNorm(case=case, norm=norm, score=round(rng.random(), 3), status=status, model_version="bench"))
        CaseNorm.objects.bulk_create(tags, batch_size=BATCH)
        created += size
        print(f"\r  created {created:>7,} cases ({time.perf_counter() - started:5.1f} s)", end="", flush=True)
    print()
    for year in {today.year, today.year - 1, today.year - 2}:
        RegistrationCounter.objects.update_or_create(prefix="HLG", year=year, defaults={"last": total})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Registration.objects.order_by("?").values_list("number", flat=True).first()


def measure(client: Client, params: dict, runs: int) -> tuple[float, float, int, int]:
    from django.urls import reverse

    url = reverse("handvest_workspace:inbox")
    client.get(url, params)  # warm-up
    times, queries, count = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries, count = len(captured), response.context["paginator"].count
    return statistics.median(times), max(times), queries, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database (handvest_bench_<pid>) afterwards")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench_case_list needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev", file=sys.stderr)
        return 2
    setup_test_environment()  # the test client then records the context of each page (how many cases matched)
    with throwaway_database("handvest_bench", keep=args.keep):
        print(f"bulk-creating {args.cases:,} cases ...")
        number = populate(args.cases)
        from django.contrib.auth import get_user_model
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client = Client()
        officer = get_user_model().objects.get(username="bench-officer")
        client.force_login(officer)
        # Staff need a second factor (always, without DEBUG): the officer has verified one in this session.
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.create(user=officer, name="bench", confirmed=True).persistent_id
        session.save()
        rows = []
        for label, params in pages(number):
            median, slowest, queries, count = measure(client, params, args.runs)
            rows.append((label, median, slowest, queries, count))
        width = max(len(row[0]) for row in rows)
        print(f"\ninbox of {args.cases:,} cases on PostgreSQL {connection.pg_version // 10000}; {args.runs} runs per page after a warm-up\n")
        print(f"| {'page':<{width}} | median ms | slowest ms | queries | cases found |")
        print(f"| {'-' * width} | ---------:| ----------:| -------:| -----------:|")
        for label, median, slowest, queries, count in rows:
            print(f"| {label:<{width}} | {median:9.0f} | {slowest:10.0f} | {queries:7d} | {count:11,} |")
        worst = max(row[1] for row in rows)
        verdict = "within" if worst <= TARGET_MS else "OVER"
        print(f"\nslowest median {worst:.0f} ms: {verdict} the target of {TARGET_MS} ms")
        return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
