"""Celery tasks of the metrics app: thin wrappers around the materialization service."""

from celery import shared_task
from django.db import DatabaseError

from . import services


@shared_task(
    name="metrics.materialize_usage",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
)
def materialize_usage(organization_id: str | None = None) -> int:
    """Recompute the dirty usage days of one organization (or of all, from beat)."""
    return services.usage_materialize_run(organization_id)
