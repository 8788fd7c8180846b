"""Background work of the budgets app (Celery): thin, idempotent wrappers over services."""

from celery import shared_task

from organizations.models import Organization

from . import services
from .models import BudgetAlert


@shared_task(name=services.REFRESH_TASK)
def refresh_after_import(organization_id: str) -> int:
    """After an import: every forecast of the organization again, then its budget alerts."""
    return len(services.refresh_after_import(organization_id))


@shared_task(name=services.EVALUATE_TASK)
def evaluate_budget_alerts(organization_id: str) -> int:
    """After a budget or alert changed: missing forecasts, then the budget alerts."""
    return len(services.budgets_evaluate(organization_id))


@shared_task(name="budgets.evaluate_all_budget_alerts")
def evaluate_all_budget_alerts() -> int:
    """Periodic (beat): a new day can start a period or cross a threshold without an import."""
    fired = 0
    for organization in Organization.objects.filter(
        pk__in=BudgetAlert.objects.values("organization")
    ):
        fired += len(services.budget_alerts_evaluate(organization))
    return fired


@shared_task(name="budgets.refresh_all_forecasts")
def refresh_all_forecasts() -> int:
    """Periodic (beat): forecasts move with the calendar even when no import comes."""
    refreshed = 0
    for organization_id in Organization.objects.values_list("pk", flat=True):
        refreshed += services.forecasts_refresh(organization_id)
    return refreshed


@shared_task(
    name=services.DELIVER_TASK,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def deliver_budget_alert_event(event_id: int) -> bool:
    """Send one crossing; retried with backoff (delivery is idempotent per target and key)."""
    return services.budget_alert_event_deliver(event_id) is not None
