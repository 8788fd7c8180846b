"""Celery tasks of the cost data: thin wrappers around ``costs.services``."""

from celery import shared_task
from django.db import OperationalError

from core.errors import ServiceError

from . import services
from .models import ImportJob, Integration


@shared_task(
    name="costs.run_import_job",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_import_job(job_id: str) -> str:
    """Run one import job; safe to run twice (a succeeded job is left alone; imports replace)."""
    job = ImportJob.objects.select_related("integration").filter(pk=job_id).first()
    if job is None:
        return "missing"
    return services.import_job_run(job).status


@shared_task(name="costs.sync_due_sources")
def sync_due_sources() -> int:
    """Beat: queue a sync of every integration whose source is due (``next_run_at`` passed)."""
    from .connectors import sync

    due = sync.sources_due()
    for integration_id in due:
        sync_integration_source.delay(str(integration_id))
    return len(due)


@shared_task(
    name="costs.sync_integration_source",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def sync_integration_source(integration_id: str) -> int:
    """Sync one integration's source; its error is kept on the source (``last_error``)."""
    from .connectors import sync

    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return 0
    try:
        return len(sync.source_sync(integration))
    except ServiceError:
        return 0
