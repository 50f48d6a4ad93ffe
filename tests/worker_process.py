"""A real Celery worker in its own process, on the local Redis and the test's PostgreSQL database,
that a test can kill with SIGKILL and start again (``tests/test_worker_sigkill.py``, the burst test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import requires_postgres

ROOT = Path(__file__).resolve().parent.parent

# The marks of every test that runs a real worker (or the whole Procfile) on the local Redis and PostgreSQL.
NEEDS_WORKER = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.CELERY_BROKER_URL, reason="needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (CI does)"),
    requires_postgres(),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def broker():
    """Tasks go to Redis (not run here); nothing left over from an earlier run."""
    from config.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    yield
    app.control.purge()
    app.conf.task_always_eager = True


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """``celery worker`` as a deployment runs it, in a process group of its own so SIGKILL reaches its children too."""

    def __init__(self, tmp_path: Path, *, queues: str = "mail,celery", concurrency: int = 2, name: str = "test", **environment: str):
        self.sent_log = tmp_path / "sent.log"
        self.log = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "tests.support.recording_backend.RecordingBackend",
            "HANDVEST_TEST_SENT_LOG": str(self.sent_log),
            "HANDVEST_VAR_DIR": str(tmp_path / "var"),
            "HANDVEST_TAG_ON_REGISTRATION": "false",
            "HANDVEST_BROKER_VISIBILITY_TIMEOUT": "5",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **environment,
        }
        self.command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING", "-Q", queues, "-c", str(concurrency)]
        self.command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}-{os.getpid()}@%h"]
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: nothing gets to clean up, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def sends(self) -> list[str]:
        """The Message-IDs the mail provider accepted, once per acceptance."""
        return self.sent_log.read_text().split() if self.sent_log.exists() else []

    def wait_until(self, condition, timeout: float, step: float = 0.5) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(step)
        return condition()
