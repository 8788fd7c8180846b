"""Health of the parts Costline depends on: database, cache, broker and Celery workers."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from config.celery import app as celery_app


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


def health_report() -> tuple[dict, bool]:
    """The report, and whether the service can answer requests at all (database up)."""
    database = _database()
    broker, workers = _broker_and_workers()
    checks = {"database": database, "cache": _cache(), "broker": broker, "workers": workers}
    healthy = all(check["status"] == "ok" for check in checks.values())
    serving = database["status"] == "ok"
    status = "ok" if healthy else ("degraded" if serving else "error")
    return {"status": status, "checks": checks}, serving
