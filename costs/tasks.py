"""Celery tasks of the cost data: thin wrappers around ``costs.services``."""

from celery import shared_task
from django.db import OperationalError

from . import services
from .models import ImportJob


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
