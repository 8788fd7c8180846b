"""Fixtures of the budgets tests: an AWS integration whose cost rows follow a known pattern.

Every day from July 1 to September 30, 2026: AmazonEC2 costs 100 on weekdays and 40 on
weekends, AmazonS3 costs 10 every day. The figures the tests expect are computed from these
specs (or read back from the store with pyarrow), never from the code under test.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from costs.services import integration_create
from reports.services import cost_report_create
from segments.filter_tree import parse_vql

from ..alerts.conftest import smtp_server  # noqa: F401 (a real SMTP server for delivery tests)
from ..factories import cost_rows
from ..segments.conftest import committed

FIRST_DAY = date(2026, 7, 1)
LAST_DAY = date(2026, 9, 30)


def ec2_cost(day: date) -> Decimal:
    return Decimal(40) if day.weekday() >= 5 else Decimal(100)


S3_COST = Decimal(10)


def days(start: date = FIRST_DAY, end: date = LAST_DAY) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def expected_total(start: date, end: date, service: str | None = None) -> Decimal:
    total = Decimal(0)
    for day in days(max(start, FIRST_DAY), min(end, LAST_DAY)):
        if service in (None, "AmazonEC2"):
            total += ec2_cost(day)
        if service in (None, "AmazonS3"):
            total += S3_COST
    return total


@pytest.fixture
def aws_costs(organization):
    with committed():
        integration = integration_create(organization, "aws", "AWS billing")
    specs = []
    for day in days():
        for service, cost in (("AmazonEC2", ec2_cost(day)), ("AmazonS3", S3_COST)):
            specs.append(
                {
                    "charge_period_start": day,
                    "service_name": service,
                    "billed_cost": cost,
                    "effective_cost": cost,
                    "list_cost": cost,
                    "contracted_cost": cost,
                }
            )
    cost_rows(integration, specs)
    return integration


@pytest.fixture
def aws_report(organization, aws_costs):
    from organizations.models import Workspace

    workspace = Workspace.objects.get(organization=organization, is_default=True)
    return cost_report_create(
        organization,
        workspace=workspace,
        title="All AWS",
        filter_tree=parse_vql("costs.provider = 'aws'"),
    )
