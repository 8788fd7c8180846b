"""Known daily cost series for the alerts tests, written to the columnar store as an import would.

EC2 follows a weekly rhythm (weekdays 100 ± a few, weekends 60 ± a few) with one spike of 400 on
``SPIKE_DAY``; S3 is a steady 20 a day with a 5 bump on ``PENNY_DAY`` (too small to page anyone).
"""

import datetime
from decimal import Decimal
from statistics import median

from reports.services import cost_report_create
from tests.factories import IntegrationFactory, cost_rows

START = datetime.date(2026, 7, 1)
END = datetime.date(2026, 9, 22)
SPIKE_DAY = datetime.date(2026, 9, 15)
PENNY_DAY = datetime.date(2026, 9, 10)
WIGGLE = [0, 2, -3, 1, -1, 3, -2]


def days(start=START, end=END):
    day = start
    while day <= end:
        yield day
        day += datetime.timedelta(days=1)


def ec2_cost(day: datetime.date) -> Decimal:
    if day == SPIKE_DAY:
        return Decimal("400.00")
    base = 60 if day.weekday() >= 5 else 100
    return Decimal(base + WIGGLE[(day - START).days * 3 % 7])


def s3_cost(day: datetime.date) -> Decimal:
    return Decimal("25.00") if day == PENNY_DAY else Decimal("20.00")


def write_costs(organization, *, ec2=ec2_cost, s3=s3_cost):
    integration = IntegrationFactory(organization=organization, provider="aws")
    specs = []
    for day in days():
        for service, cost in (("AmazonEC2", ec2(day)), ("AmazonS3", s3(day))):
            specs.append(
                {
                    "service_name": service,
                    "charge_period_start": day,
                    "billed_cost": cost,
                    "effective_cost": cost,
                }
            )
    cost_rows(integration, specs)
    return integration


def all_costs_report(organization, title="All costs"):
    return cost_report_create(organization, workspace=organization.workspaces.first(), title=title)


def same_weekday_median(series, day: datetime.date, weeks: int = 8) -> Decimal:
    """The baseline computed the plain way, independently of the detector."""
    earlier = [day - datetime.timedelta(days=7 * week) for week in range(1, weeks + 1)]
    return Decimal(str(median(float(series(d)) for d in earlier if d >= START)))
