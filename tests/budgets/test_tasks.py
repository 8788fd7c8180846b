"""The Celery tasks: registered under their names, thin over the services, safe to run twice."""

from datetime import date, timedelta
from decimal import Decimal

from celery import current_app

from budgets import services, tasks
from budgets.models import BudgetAlertEvent, CostForecast


def test_the_tasks_are_registered_under_the_names_services_and_beat_use(settings):
    registered = set(current_app.tasks)
    assert {
        services.REFRESH_TASK,
        services.EVALUATE_TASK,
        services.DELIVER_TASK,
        "budgets.evaluate_all_budget_alerts",
        "budgets.refresh_all_forecasts",
    } <= registered
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"budgets.evaluate_all_budget_alerts", "budgets.refresh_all_forecasts"} <= scheduled


def test_the_periodic_tasks_refresh_forecasts_and_fire_once(organization, aws_report):
    # A period covering today, far over its budget by forecast and by actual: the report's
    # costs run to 30 September 2026 and its forecast covers the days after.
    today = date.today()
    budget = services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="Tiny",
        cost_report=aws_report,
        periods=[services.PeriodInput(date(2026, 7, 1), today + timedelta(days=1), Decimal(1))],
    )
    services.budget_alert_create(organization, budgets=[budget], threshold=100)
    assert tasks.refresh_all_forecasts.apply().get() >= 1
    assert CostForecast.objects.filter(cost_report=aws_report).exists()
    assert tasks.evaluate_all_budget_alerts.apply().get() == 1
    assert tasks.evaluate_all_budget_alerts.apply().get() == 0
    assert tasks.evaluate_budget_alerts.apply((str(organization.pk),)).get() == 0
    assert BudgetAlertEvent.objects.count() == 1
