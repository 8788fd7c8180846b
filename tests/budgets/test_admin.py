"""Every budgets model in the admin: lists and pages open; the actions run the services."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from budgets import services
from budgets.models import Budget, BudgetAlertEvent, CostForecast, ReportForecast


@pytest.fixture
def staff(user, settings):
    settings.AXES_ENABLED = False
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_pages_and_actions(staff, organization, aws_report):
    budget = services.budget_create(
        organization,
        workspace=aws_report.workspace,
        name="AWS",
        cost_report=aws_report,
        periods=[services.PeriodInput(date(2026, 9, 1), None, Decimal(100))],
    )
    alert = services.budget_alert_create(organization, budgets=[budget], threshold=50)
    (event,) = services.budget_alerts_evaluate(organization, today=date(2026, 9, 30))
    forecast = services.forecast_refresh(cost_report=aws_report, today=date(2026, 10, 1))
    report_forecast = services.report_forecast_create(
        organization, cost_report=aws_report, title="Growth"
    )
    for model, obj in (
        ("budget", budget),
        ("budgetalert", alert),
        ("budgetalertevent", event),
        ("costforecast", forecast),
        ("reportforecast", report_forecast),
    ):
        assert staff.get(f"/admin/budgets/{model}/").status_code == 200, model
        page = staff.get(f"/admin/budgets/{model}/{obj.pk}/change/")
        assert page.status_code == 200, model
    assert "AWS" in staff.get(f"/admin/budgets/budget/{budget.pk}/change/").content.decode()
    refreshed = staff.post(
        "/admin/budgets/costforecast/",
        {"action": "refresh", "_selected_action": [forecast.pk]},
        follow=True,
    )
    assert "1 forecast(s) computed again." in refreshed.content.decode()
    assert CostForecast.objects.count() == 1
    assert BudgetAlertEvent.objects.count() == 1
    assert ReportForecast.objects.count() == 1
    # Read only: no add page, no save; deleting goes through the service.
    assert staff.get("/admin/budgets/budget/add/").status_code == 403
    page = staff.get(f"/admin/budgets/budget/{budget.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    deleted = staff.post(f"/admin/budgets/budget/{budget.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not Budget.objects.exists() and not BudgetAlertEvent.objects.exists()
