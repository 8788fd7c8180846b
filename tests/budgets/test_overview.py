"""The overview page lists the budgets whose current period is forecast to reach 90%."""

from decimal import Decimal

from django.test import Client
from django.utils import timezone

from budgets import services


def test_the_overview_shows_budgets_at_risk(user, organization, aws_report):
    today = timezone.now().date()
    this_month = [services.PeriodInput(today.replace(day=1), None, Decimal(1000))]
    generous = [services.PeriodInput(today.replace(day=1), None, Decimal(10_000_000))]
    for name, periods in (("Tight", this_month), ("Generous", generous)):
        services.budget_create(
            organization,
            workspace=aws_report.workspace,
            name=name,
            cost_report=aws_report,
            periods=periods,
        )
    # The report's costs stop on 30 September 2026: its forecast covers the weeks after (about
    # 110 a day, over 1,000 in any month).
    services.forecast_refresh(cost_report=aws_report)
    client = Client()
    client.force_login(user)
    page = client.get("/")
    at_risk = page.context["budgets_at_risk"]
    assert [item.budget.name for item in at_risk] == ["Tight"]
    assert at_risk[0].period.forecast > Decimal(1000)
    text = page.content.decode()
    assert "Budgets at risk" in text and "Tight" in text and "$1,000.00" in text
