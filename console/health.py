"""Health of the parts Costline depends on: database, cache, broker, Celery workers, the queue,
and work that is stuck (import jobs and segment refreshes whose worker is gone).

Anonymous callers (load balancers, uptime probes) only learn whether the service is up:
``{"status": "ok"}`` or a 503. Staff signed in, or any valid API token, get the full report.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F

from config.celery import SENT_AT_HEADER
from config.celery import app as celery_app
from costs.models import ImportJob
from costs.selectors import import_jobs_stuck
from metrics.selectors import materialization_problems
from organizations.authentication import presented_secret
from organizations.models import ApiToken, hash_secret
from segments.models import Segment, Status, TreeRefresh
from segments.selectors import tree_refreshes_stuck


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # any failure means unhealthy; the reason is reported
        return {"status": "error", "error": str(exc)}


def _cache() -> dict:
    try:
        cache.set("health:probe", "ok", 10)
        ok = cache.get("health:probe") == "ok"
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        return {"status": "ok" if ok else "error", "backend": backend}
    except Exception as exc:
        return {"status": "error", "error": str(exc)}


def _broker_and_workers() -> tuple[dict, dict]:
    if celery_app.conf.task_always_eager:
        eager = {"status": "ok", "mode": "eager"}
        return eager, {"status": "ok", "mode": "eager", "workers": 0}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        broker = {"status": "ok", "transport": celery_app.conf.broker_url.split("://", 1)[0]}
    except Exception as exc:
        return {"status": "error", "error": str(exc)}, {"status": "unknown", "workers": 0}
    try:
        replies = celery_app.control.ping(timeout=1.0) or []
    except Exception as exc:
        return broker, {"status": "error", "error": str(exc), "workers": 0}
    workers = {"status": "ok" if replies else "error", "workers": len(replies)}
    if not replies:
        workers["error"] = "no Celery worker answered within 1 s"
    return broker, workers


def _queue() -> dict:
    """Length of the Celery queue in Redis, age of its oldest message (stamped when sent), and
    the messages taken by workers but not acknowledged yet (with the age of the oldest: one
    older than the visibility timeout belongs to a dead worker and is about to be redelivered)."""
    if celery_app.conf.task_always_eager:
        return {"status": "ok", "mode": "eager"}
    if not celery_app.conf.broker_url.startswith("redis"):
        return {"status": "ok", "transport": celery_app.conf.broker_url.split("://", 1)[0]}
    name = celery_app.conf.task_default_queue
    try:
        with celery_app.connection_for_read() as conn:
            client = conn.default_channel.client
            length = client.llen(name)
            oldest = client.lindex(name, -1)  # LPUSH in, BRPOP out: the oldest is last
            unacked = client.hlen("unacked")
            first_taken = client.zrange("unacked_index", 0, 0, withscores=True)
    except Exception as exc:
        return {"status": "error", "error": str(exc)}
    now = time.time()
    oldest_age = None
    if oldest:
        try:
            sent_at = json.loads(oldest).get("headers", {}).get(SENT_AT_HEADER)
            oldest_age = round(now - float(sent_at), 1) if sent_at else None
        except (ValueError, TypeError, AttributeError):
            oldest_age = None
    unacked_age = round(now - first_taken[0][1], 1) if first_taken else None
    report = {
        "queue": name,
        "length": length,
        "oldest_age_seconds": oldest_age,
        "unacked": unacked,
        "oldest_unacked_age_seconds": unacked_age,
    }
    problems = []
    if oldest_age is not None and oldest_age > settings.WORK_STALE_SECONDS:
        problems.append(f"the oldest queued message waited {oldest_age:.0f} s")
    if unacked_age is not None and unacked_age > settings.CELERY_VISIBILITY_TIMEOUT:
        problems.append(f"a message taken {unacked_age:.0f} s ago is not acknowledged")
    report["status"] = "error" if problems else "ok"
    if problems:
        report["error"] = "; ".join(problems)
    return report


def _stuck_work() -> dict:
    """Work nobody is doing (what the ``core.recover_stuck_work`` beat task acts on), and usage
    days that could not be materialized."""
    try:
        waiting, unrequested = tree_refreshes_stuck()
        report = {
            "stale_after_seconds": settings.WORK_STALE_SECONDS,
            "imports_running": ImportJob.objects.filter(status=ImportJob.Status.RUNNING).count(),
            "imports_stuck": import_jobs_stuck().count(),
            "segment_refreshes_pending": TreeRefresh.objects.filter(
                requested__gt=F("done")
            ).count(),
            "segment_refreshes_stuck": waiting.count() + unrequested.count(),
            "segment_trees_failed": Segment.objects.filter(
                parent__isnull=True, status=Status.FAILED
            ).count(),
        }
    except Exception as exc:
        return {"status": "error", "error": str(exc)}
    try:
        problems = materialization_problems(limit=0)
        report["usage_days_failing"] = problems["count"]
    except Exception as exc:
        report["usage_days_failing"] = None
        report["usage_days_error"] = str(exc)
    stuck = report["imports_stuck"] + report["segment_refreshes_stuck"]
    report["status"] = "error" if stuck else "ok"
    if stuck:
        report["error"] = f"{stuck} piece(s) of work have had no worker for too long"
    return report


def health_report() -> tuple[dict, bool]:
    """The full report, and whether the service can answer requests at all (database up)."""
    database = _database()
    broker, workers = _broker_and_workers()
    checks = {"database": database, "cache": _cache(), "broker": broker, "workers": workers}
    if database["status"] == "ok":
        checks["queue"] = _queue() if broker["status"] == "ok" else {"status": "unknown"}
        checks["work"] = _stuck_work()
    healthy = all(check["status"] == "ok" for check in checks.values())
    serving = database["status"] == "ok"
    status = "ok" if healthy else ("degraded" if serving else "error")
    return {"status": status, "checks": checks}, serving


def health_summary() -> tuple[dict, bool]:
    """What anonymous callers get: up or down, nothing about the parts."""
    serving = _database()["status"] == "ok"
    return {"status": "ok" if serving else "error"}, serving


def may_see_details(request) -> bool:
    """Staff signed in, or a request carrying a valid (unrevoked, unexpired) API token."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    secret = presented_secret(request)
    if not secret:
        return False
    try:
        token = ApiToken.objects.filter(secret_hash=hash_secret(secret)).first()
    except Exception:  # the database is down: no details, the summary says so
        return False
    return token is not None and token.revoked_at is None and token.is_active


def health_for(request) -> tuple[dict, int]:
    """The body and status code ``/health/`` answers ``request`` with."""
    report, serving = health_report() if may_see_details(request) else health_summary()
    return report, 200 if serving else 503
