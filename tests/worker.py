"""Real Celery worker processes for tests that must go through a broker (pytest plugin).

A worker runs ``celery -A config worker`` against the same broker and the same test database as
the test process; it needs Redis and PostgreSQL (an in-memory SQLite test database is invisible to
another process). Tests using it mark ``@pytest.mark.worker`` and
``@pytest.mark.django_db(transaction=True)`` so their writes are committed and visible.

``celery_worker_process`` starts one worker. ``celery_workers`` starts any number, each with
settings of its own (environment variables) and optionally the beat scheduler embedded, in a
process group of its own so a test can SIGKILL the whole worker (``kill_hard``), as a crashed
machine or an OOM kill of the container would.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def _skip_unless_redis_and_postgresql() -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs CELERY_BROKER_URL (or REDIS_URL) pointing at Redis")
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL (shared with the worker process)")


def purge_broker() -> None:
    """Forget queued and unacknowledged messages of earlier tests (this Redis DB is the tests')."""
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        client.delete(
            celery_app.conf.task_default_queue, "unacked", "unacked_index", "unacked_mutex"
        )


class Worker:
    """One worker process (the leader of its own process group)."""

    def __init__(self, name: str, env: dict[str, str], beat: bool):
        self.hostname = f"test-worker-{os.getpid()}-{name}@%h"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "-l",
            "warning",
            "-n",
            self.hostname,
            "--without-gossip",
            "--without-mingle",
        ]
        self.schedule = None
        if beat:
            self.schedule = str(Path(tempfile.mkdtemp(prefix="beat-")) / "schedule")
            command += ["-B", "-s", self.schedule]
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        expected = self.hostname.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Celery worker exited early with code {self.process.returncode}")
            replies = celery_app.control.ping(timeout=1.0) or []
            if any(expected in reply for reply in replies):
                return
        pytest.fail(f"Celery worker {expected} did not answer a ping within {timeout:.0f} s")

    def kill_hard(self) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no message acknowledged or
        given back to the broker."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                self.kill_hard()
        if self.schedule:
            shutil.rmtree(Path(self.schedule).parent, ignore_errors=True)


@pytest.fixture
def celery_workers(transactional_db):
    """Start workers with ``start(name, beat=False, **settings_as_env)``; all are stopped after
    the test. The test process sends tasks through the broker (not eagerly) meanwhile."""
    _skip_unless_redis_and_postgresql()
    purge_broker()
    started: list[Worker] = []
    previous_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False

    def start(name: str = "a", *, beat: bool = False, wait: bool = True, **overrides) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            **{key: str(value) for key, value in overrides.items()},
        }
        worker = Worker(name, env, beat)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = previous_eager
        for worker in started:
            worker.stop()
        purge_broker()


@pytest.fixture
def celery_worker_process(celery_workers):
    return celery_workers("main").process


def pytest_collection_modifyitems(config, items):
    # Every test that starts a real worker is a ``worker`` test, whatever its module says: CI
    # runs them on their own (``-m worker``), since workers of parallel test processes would
    # share one broker queue while each process has its own database.
    for item in items:
        if {"celery_workers", "celery_worker_process"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.worker)
