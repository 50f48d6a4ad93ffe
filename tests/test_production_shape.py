"""The production shape, as `make serve` starts it: the Procfile under honcho (gunicorn with
whitenoise, a mail worker, a housekeeping worker, beat) on the local PostgreSQL and Redis, with
production settings. A complaint comes in by web form and one by a signed Mailgun webhook; each gets
its acknowledgement exactly once, the static files come from gunicorn."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
import redis
from django.conf import settings as django_settings

from cases.models import OutboxStatus, OutgoingMessage, Registration
from tests.worker_process import NEEDS_WORKER, database_url

pytestmark = NEEDS_WORKER

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "key-5b1e2d9c8b7a6f5e4d3c2b1a09f8e7d6"
MAIL = b"""From: Aukje Dijkstra <a.dijkstra@ziggo.nl>
To: info@harlingen.nl
Subject: Klacht over de wachttijd aan de telefoon
Message-ID: <shape-test-1@ziggo.nl>
Date: Thu, 03 Dec 2026 10:00:00 +0100
Content-Type: text/plain; charset=utf-8

Ik heb gisteren drie kwartier in de wacht gestaan bij het klantcontactcentrum.
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def shape(tmp_path, harlingen):
    """The Procfile running, with its own Redis database; stopped (SIGTERM, then SIGKILL) afterwards."""
    broker = re.sub(r"/\d+$", "", django_settings.CELERY_BROKER_URL) + "/9"
    redis.Redis.from_url(broker).flushdb()
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "shape-test-" + "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain http on the loopback: the test's client must get its cookies back (behind TLS these stay on).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SESSION_COOKIE_SECURE": "false",
        "DJANGO_CSRF_COOKIE_SECURE": "false",
        "HANDVEST_BASE_URL": f"http://127.0.0.1:{port}",
        "HANDVEST_VAR_DIR": str(tmp_path / "var"),
        "HANDVEST_TAG_ON_REGISTRATION": "false",
        "HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES": "0",
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "EMAIL_BACKEND": "tests.support.recording_backend.RecordingBackend",
        "HANDVEST_TEST_SENT_LOG": str(tmp_path / "sent.log"),
        "WEB_CONCURRENCY": "2",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    log = (tmp_path / "honcho.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base), what=f"gunicorn on {base}", log=tmp_path / "honcho.log")
        yield base, tmp_path / "sent.log", tmp_path / "honcho.log"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


def answers(base: str) -> bool:
    try:
        return build_opener().open(f"{base}/", timeout=2).status == 200
    except (OSError, HTTPError):
        return False


def wait_until(condition, *, what: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; the processes said:\n" + log.read_text(errors="replace")[-4000:])


def submit_web_form(base: str) -> None:
    browser = build_opener(HTTPCookieProcessor())
    page = browser.open(f"{base}/melding/", timeout=10).read().decode()
    field = dict(re.findall(r'name="(csrfmiddlewaretoken)" value="([^"]+)"', page))
    data = {**field, "kind": "complaint", "description": "De stoep voor Voorstraat 12 ligt al maanden open.", "name": "Sjoukje Visser",
            "email": "s.visser@example.nl", "address": "", "phone": "", "hint": "", "website": ""}
    response = browser.open(Request(f"{base}/melding/", data=urlencode(data).encode(), headers={"Referer": f"{base}/melding/"}), timeout=30)
    assert "/melding/ontvangen/" in response.url


def post_mailgun(base: str) -> int:
    timestamp, token = str(int(time.time())), "shape-token-0123456789abcdef0123456789abcdef01"
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {"body-mime": MAIL.decode(), "sender": "a.dijkstra@ziggo.nl", "recipient": "info@harlingen.nl",
            "timestamp": timestamp, "token": token, "signature": signature}
    return build_opener().open(Request(f"{base}/anymail/mailgun/inbound_mime/", data=urlencode(data).encode()), timeout=30).status


def test_the_procfile_takes_complaints_and_acknowledges_each_once(shape):
    base, sent_log, log = shape
    css = build_opener().open(f"{base}/static/css/site.css", timeout=10)
    assert css.status == 200 and "text/css" in css.headers["Content-Type"]
    submit_web_form(base)
    assert post_mailgun(base) == 200
    acknowledged = OutgoingMessage.objects.filter(kind="acknowledgement", status=OutboxStatus.SENT)
    wait_until(lambda: acknowledged.count() == 2, what="two acknowledgements sent by the mail worker", log=log)
    time.sleep(3)  # the housekeeping worker and beat keep running: nothing may send them again
    assert Registration.objects.count() == 2
    sent = sent_log.read_text().split()
    assert sorted(sent) == sorted(acknowledged.values_list("message_id", flat=True))
    assert len(sent) == len(set(sent)) == 2
    names = log.read_text(errors="replace")
    assert "mail@" in names and "housekeeping@" in names and "beat" in names
