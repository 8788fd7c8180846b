"""Celery tasks of the metrics app: thin wrappers around the materialization service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="metrics.materialize_usage",
    acks_late=True,
    # Only a lost database is worth retrying the whole run for; a day that cannot be computed is
    # recorded on its dirty row by the service (bounded attempts) and the others go on.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def materialize_usage(organization_id: str | None = None) -> int:
    """Recompute the dirty usage days of one organization (or of all, from beat)."""
    return services.usage_materialize_run(organization_id)
