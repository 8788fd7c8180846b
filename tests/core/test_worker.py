"""Celery configuration, a round trip through Redis to a real worker process, and the queue as
/health/ reports it."""

import time

import pytest

from config.celery import SENT_AT_HEADER, app
from console.health import health_report
from core.tasks import echo
from tests.worker import purge_broker


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    # Work of a worker killed mid-task comes back after 5 minutes, not Kombu's default hour.
    assert conf.broker_transport_options["visibility_timeout"] == 300
    assert conf.beat_schedule["core-recover-stuck-work"]["task"] == "core.recover_stuck_work"


def test_echo_runs_eagerly_by_default():
    assert echo.delay({"n": 1}).get(timeout=5) == {"echo": {"n": 1}, "worker": "eager"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_echo_goes_through_a_real_worker(celery_worker_process):
    result = echo.delay({"n": 2}).get(timeout=30)
    assert result["echo"] == {"n": 2}
    assert result["worker"].startswith("test-worker-")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_reports_the_queue_length_and_its_oldest_message(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs CELERY_BROKER_URL (or REDIS_URL) pointing at Redis")
    purge_broker()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        echo.delay({"n": 3})  # no worker: it waits in the queue
        time.sleep(1.2)
        echo.delay({"n": 4})
        queue = health_report()[0]["checks"]["queue"]
        assert queue["length"] == 2
        assert 1.2 <= queue["oldest_age_seconds"] < 30
        assert queue["status"] == "ok"
        settings.WORK_STALE_SECONDS = 1
        queue = health_report()[0]["checks"]["queue"]
        assert queue["status"] == "error"
        assert queue["error"].startswith("the oldest queued message waited ")
        with app.connection_for_read() as conn:
            raw = conn.default_channel.client.lindex(app.conf.task_default_queue, -1)
        assert SENT_AT_HEADER in raw.decode()
    finally:
        app.conf.task_always_eager = previous
        purge_broker()
