"""Celery configuration, and a round trip through Redis to a real worker process."""

import pytest

from config.celery import app
from core.tasks import echo


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]


def test_echo_runs_eagerly_by_default():
    assert echo.delay({"n": 1}).get(timeout=5) == {"echo": {"n": 1}, "worker": "eager"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_echo_goes_through_a_real_worker(celery_worker_process):
    result = echo.delay({"n": 2}).get(timeout=30)
    assert result["echo"] == {"n": 2}
    assert result["worker"].startswith("test-worker-")
