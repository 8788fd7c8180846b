"""The Celery app. Settings come from Django settings under the ``CELERY_`` namespace."""

import logging
import os
import time

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("costline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Every message carries the time it was sent, so /health/ can report how old the oldest queued
# message is (Celery's own headers have no send time).
SENT_AT_HEADER = "costline_sent_at"


@before_task_publish.connect
def _stamp_sent_at(headers=None, **kwargs):
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


# One structured log line per task: name, state, organization (when the task names one), duration.
_task_started: dict[str, float] = {}
_task_logger = logging.getLogger("costline.task")


@task_prerun.connect
def _task_prerun(task_id=None, task=None, **kwargs):
    _task_started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_postrun(task_id=None, task=None, args=None, kwargs=None, state=None, **extra):
    started = _task_started.pop(task_id, None)
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    organization = (kwargs or {}).get("organization_id", "-")
    _task_logger.info(
        "task name=%s id=%s state=%s org=%s duration_ms=%.1f",
        getattr(task, "name", "?"),
        task_id,
        state,
        organization,
        duration_ms,
    )
