"""Clearing the cache between tests without touching another test process's keys."""

from django.conf import settings
from django.core.cache import cache


def clear_cache() -> None:
    """Forget this process's cache keys (rate-limit counters, progress).

    Parallel test processes (pytest-xdist) share one Redis database, each under its own key
    prefix (``config.settings``); Django's ``cache.clear()`` is a FLUSHDB there and would wipe
    the other process's counters in the middle of its test. So only this prefix's keys go.
    """
    prefix = settings.CACHES["default"].get("KEY_PREFIX")
    client_of = getattr(getattr(cache, "_cache", None), "get_client", None)
    if not prefix or client_of is None:
        cache.clear()
        return
    client = client_of(None, write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
