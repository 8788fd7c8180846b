"""Background work of the business app (Celery): thin, idempotent wrappers over services."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="business.refresh_live_values",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def refresh_live_values(marks: list | None = None, metric_id: int | None = None) -> int:
    """Rebuild live business metric values: for materialized usage days (``marks`` of
    [organization, code, customer, day]) or all of one metric. Safe to run twice: values are
    recomputed from the usage aggregates, never incremented."""
    if metric_id is not None:
        return services.live_metric_refresh_all(metric_id)
    return services.live_metrics_refresh_days([tuple(mark) for mark in marks or []])


@shared_task(
    name="business.run_unit_costs_export",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_unit_costs_export(export_id: int) -> str:
    """Write one unit-costs export's files; safe to run twice."""
    export = services.unit_costs_export_run(export_id)
    return export.status if export is not None else "missing"


@shared_task(
    name="business.generate_statement",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def generate_statement(statement_id: int) -> str:
    """Write (and mail, when asked) one statement; safe to run twice."""
    statement = services.statement_generate(statement_id)
    return statement.status if statement is not None else "missing"


@shared_task(name="business.send_monthly_statements", acks_late=True)
def send_monthly_statements() -> int:
    """Beat, monthly: queue the statements of every schedule for the month just ended."""
    return services.statements_send_monthly()


@shared_task(
    name="business.run_focus_export",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_focus_export(export_id: int) -> str:
    """Write one FOCUS export of allocated costs; safe to run twice."""
    export = services.focus_export_run(export_id)
    return export.status if export is not None else "missing"
