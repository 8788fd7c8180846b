"""Celery tasks of the reports: thin wrappers over ``reports.services``."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="reports.run_data_export",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_data_export(export_id: int) -> str:
    """Write one data export's files; safe to run twice (a finished export is left alone)."""
    export = services.data_export_run(export_id)
    return export.status if export is not None else "missing"
