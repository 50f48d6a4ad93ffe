"""Resident memory of each process of the production shape (targets: web ≤ 200 MiB, worker ≤ 300 MiB).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handvest_dev CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_processes.py [--mails 40]

It makes a throwaway database (``handvest_bench_proc_<pid>``, dropped afterwards), migrates it,
loads the Harlingen charter and trains the tagger (or takes it from the model cache in
``var/models``), then starts the ``Procfile`` with honcho exactly as ``make serve`` does: gunicorn,
the mail worker, the housekeeping worker and beat. It serves the public pages and the admin's
login page, takes complaints by web form and by signed Mailgun webhook until every
acknowledgement is sent and every case is tagged (so the housekeeping worker holds the tagger),
and then reads each process's resident set size (VmRSS) from ``/proc``. Linux only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HANDVEST_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from throwaway import throwaway_database  # noqa: E402  (bench/, beside this script)

WEB_TARGET_MIB, WORKER_TARGET_MIB = 200, 300
SIGNING_KEY = "key-bench-processes-0123456789abcdef"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (from the parent ids in /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def role_of(pid: int) -> str | None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    if "gunicorn" in command:
        return "web (gunicorn)"
    if "celery" in command and " beat" in command:
        return "beat"
    if "celery" in command and "-Q mail" in command:
        return "mail worker"
    if "celery" in command and "-Q celery" in command:
        return "housekeeping worker"
    return None


def submit(base: str, mails: int) -> None:
    browser = build_opener(HTTPCookieProcessor())
    for path in ("/", "/kwaliteitshandvest/", "/melding/", "/beheer/login/"):
        browser.open(base + path, timeout=30).read()
    for number in range(mails):
        page = browser.open(f"{base}/melding/", timeout=30).read().decode()
        field = dict(re.findall(r'name="(csrfmiddlewaretoken)" value="([^"]+)"', page))
        data = {**field, "kind": "complaint", "description": f"Ik heb {number + 10} minuten aan de balie gewacht zonder afspraak.",
                "name": f"Inwoner {number}", "email": f"inwoner{number}@example.nl", "address": "", "phone": "", "hint": "", "website": ""}
        browser.open(Request(f"{base}/melding/", data=urlencode(data).encode(), headers={"Referer": f"{base}/melding/"}), timeout=60).read()
        raw = (f"From: Beller {number} <beller{number}@example.nl>\r\nTo: info@harlingen.nl\r\nSubject: Telefoon\r\n"
               f"Message-ID: <bench-proc-{number}@example.nl>\r\n\r\nIk hing {number + 20} minuten in de wacht aan de telefoon.\r\n")
        timestamp, token = str(int(time.time())), hashlib.sha256(f"{number}".encode()).hexdigest()
        signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
        post = {"body-mime": raw, "timestamp": timestamp, "token": token, "signature": signature}
        build_opener().open(Request(f"{base}/anymail/mailgun/inbound_mime/", data=urlencode(post).encode()), timeout=60).read()


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=40, help="complaints by web form and as many by webhook")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if connection.vendor != "postgresql" or not broker.startswith("redis"):
        print("bench_processes needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…", file=sys.stderr)
        return 2
    base = f"http://127.0.0.1:{args.port}"
    with throwaway_database("handvest_bench_proc") as name, TemporaryDirectory() as tmp:
        db = connection.settings_dict
        env = {
            **os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PORT": str(args.port),
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}",
            "CELERY_TASK_ALWAYS_EAGER": "false", "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(32).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SESSION_COOKIE_SECURE": "false",
            "DJANGO_CSRF_COOKIE_SECURE": "false", "HANDVEST_BASE_URL": base, "HANDVEST_VAR_DIR": tmp,
            "HANDVEST_MODEL_DIR": str(ROOT / "var" / "models"), "HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES": "0",
            "HANDVEST_FORM_RATE_LIMIT": "100000", "HANDVEST_FORM_RATE_LIMIT_EMAIL": "0",
            "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        manage = [sys.executable, "manage.py"]
        for step in (["load_charter", "--if-empty", "cms/charters/harlingen-2017.yaml"], ["collectstatic", "--noinput", "-v0"], ["ensure_tagger"]):
            print("manage.py", " ".join(step), "…", flush=True)
            subprocess.run(manage + step, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        honcho = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", "Procfile"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            from cases.models import Case, CaseEvent, InboundMessage, OutboxStatus, OutgoingMessage

            assert wait_for(lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null", base + "/"]).returncode == 0, 120), "gunicorn did not start"
            print(f"serving pages and taking {args.mails} complaints by web form and {args.mails} by webhook …", flush=True)
            submit(base, args.mails)
            assert wait_for(lambda: not InboundMessage.objects.filter(outcome="").exists(), 300), "the webhook mail was not processed"
            total = Case.objects.count()
            print(f"  {total} cases; inbound mail outcomes: {dict(InboundMessage.objects.values_list('outcome').annotate(n=Count('pk')))}", flush=True)
            sent = OutgoingMessage.objects.filter(kind="acknowledgement", status=OutboxStatus.SENT)
            assert wait_for(lambda: sent.count() == total, 300), f"{sent.count()} of {total} acknowledgements sent"
            tagged = CaseEvent.objects.filter(kind="tag").values("case").distinct()
            wait_for(lambda: tagged.count() >= total * 0.8, 300)
            time.sleep(3)
            tagged_cases = tagged.count()
            rows: dict[str, list[float]] = {}
            for pid in descendants(honcho.pid):
                role = role_of(pid)
                if role:
                    rows.setdefault(role, []).append(rss_mib(pid))
        finally:
            os.killpg(honcho.pid, signal.SIGTERM)
            honcho.wait(timeout=60)
    targets = {"web (gunicorn)": WEB_TARGET_MIB, "mail worker": WORKER_TARGET_MIB, "housekeeping worker": WORKER_TARGET_MIB}
    print(f"\nresident memory after {total} complaints ({tagged_cases} tagged), MiB; each process of a role (master first)\n")
    print("| process | processes | largest MiB | all MiB | target |")
    print("| --- | ---:| ---:| --- | --- |")
    ok = True
    for role in ("web (gunicorn)", "mail worker", "housekeeping worker", "beat"):
        sizes = rows.get(role, [])
        largest = max(sizes, default=0)
        target = targets.get(role)
        ok &= target is None or largest <= target
        verdict = "—" if target is None else f"≤ {target}: {'yes' if largest <= target else 'NO'}"
        print(f"| {role} | {len(sizes)} | {largest:.0f} | {', '.join(f'{size:.0f}' for size in sizes)} | {verdict} |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
