"""Demo budget: the AWS report's monthly spend against a budget for this month and the next two,
with an alert at 80%, forecast from the demo cost history."""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from reports.models import CostReport

from . import services


def _months(first: date, count: int) -> list[date]:
    months, month = [], first
    for _ in range(count):
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def load(organization, user) -> None:
    report = CostReport.objects.get(organization=organization, title="AWS by service")
    this_month = timezone.now().date().replace(day=1)
    budget = services.budget_create(
        organization,
        workspace=report.workspace,
        name="AWS monthly",
        cost_report=report,
        periods=[
            services.PeriodInput(start=month, end=None, amount=Decimal("4000"))
            for month in _months(this_month, 3)
        ],
        created_by=user,
    )
    services.budget_alert_create(
        organization, budgets=[budget], threshold=80, recipients=[user.pk], created_by=user
    )
