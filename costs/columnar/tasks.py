"""Celery tasks of the columnar store: thin wrappers around ``store``."""

from celery import shared_task

from . import store


@shared_task(name="columnar.sweep_store")
def sweep_store() -> dict:
    """Beat: retire replaced generations after their grace period; remove orphan files."""
    result = store.store_sweep()
    return {"retired": result.partitions_retired, "orphans": result.orphans_removed}
