"""Allocation with hand-checked figures: independence, priorities, ties, nesting, unallocated,
report settings. Celery runs eagerly, so creating a segment computes its tree."""

import datetime
from decimal import Decimal

from django.db.models import Sum

from segments import selectors, services
from segments.models import Granularity, Line, Segment, Status
from tests.costrows import replace_rows

from .conftest import committed, row, vql_segment

OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
AWS = "costs.provider = 'aws'"


def total(segment, line=Line.TOTAL, granularity=Granularity.MONTH, field="billed_cost", **extra):
    segment.refresh_from_db()
    value = segment.metrics.filter(line=line, granularity=granularity, **extra).aggregate(
        value=Sum(field)
    )["value"]
    return value or Decimal(0)


def test_top_level_segments_are_independent_and_may_overlap(organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    row(aws, service_name="AmazonS3", cost=5)
    everything = vql_segment(organization, "All AWS", AWS)
    compute = vql_segment(organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'")
    assert total(everything) == Decimal(15)
    assert total(compute) == Decimal(10)


def test_first_matching_sibling_by_priority_takes_the_row(organization, aws):
    row(aws, service_name="AmazonEC2", region_id="us-east-1", cost=10)
    row(aws, service_name="AmazonEC2", region_id="eu-west-1", cost=7)
    parent = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    # Both siblings match the us-east-1 EC2 row; the lower priority number wins it.
    by_region = vql_segment(
        organization, "US", f"{AWS} AND costs.region = 'us-east-1'", parent=parent, priority=2
    )
    by_service = vql_segment(
        organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'", parent=parent, priority=1
    )
    assert total(by_service) == Decimal(17)
    assert total(by_region) == Decimal(0)
    assert total(parent) == Decimal(17)


def test_priority_ties_go_to_the_older_sibling(organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    parent = vql_segment(organization, "AWS", AWS)
    first = vql_segment(organization, "First", AWS, parent=parent, priority=5)
    second = vql_segment(organization, "Second", AWS, parent=parent, priority=5)
    assert (total(first), total(second)) == (Decimal(10), Decimal(0))


def test_children_only_see_what_their_parent_took(organization, aws, gcp):
    row(aws, service_name="AmazonEC2", cost=10)
    row(gcp, service_name="Compute Engine", cost=4)
    parent = vql_segment(organization, "EC2 only", f"{AWS} AND costs.service = 'AmazonEC2'")
    child = vql_segment(
        organization,
        "GCP compute",
        "costs.provider IN ('aws', 'gcp') AND costs.service = 'Compute Engine'",
        parent=parent,
    )
    assert total(child) == Decimal(0)
    assert total(parent) == Decimal(10)


def test_three_levels_and_unallocated_lines(organization, aws):
    row(aws, service_name="AmazonEC2", region_id="us-east-1", cost=8)
    row(aws, service_name="AmazonEC2", region_id="eu-west-1", cost=4)
    row(aws, service_name="AmazonS3", region_id="us-east-1", cost=2)
    row(aws, service_name="AWSLambda", region_id="us-east-1", cost=1)
    top = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    compute = vql_segment(
        organization,
        "EC2",
        f"{AWS} AND costs.service = 'AmazonEC2'",
        parent=top,
        priority=1,
        track_unallocated=True,
    )
    us = vql_segment(
        organization, "EC2 US", f"{AWS} AND costs.region = 'us-east-1'", parent=compute
    )
    storage = vql_segment(
        organization, "S3", f"{AWS} AND costs.service = 'AmazonS3'", parent=top, priority=2
    )
    assert total(us) == Decimal(8)
    assert total(compute) == Decimal(12)
    assert total(compute, Line.UNALLOCATED) == Decimal(4)
    assert total(storage) == Decimal(2)
    assert total(top, Line.UNALLOCATED) == Decimal(1)
    assert total(top) == total(compute) + total(storage) + total(top, Line.UNALLOCATED)


def test_unallocated_line_is_reported_only_when_tracked(organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    row(aws, service_name="AmazonS3", cost=3)
    tracked = vql_segment(organization, "Tracked", AWS, track_unallocated=True)
    untracked = vql_segment(organization, "Untracked", AWS)
    for parent in (tracked, untracked):
        vql_segment(organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'", parent=parent)
    tracked_lines = [line["line"] for line in selectors.cost_lines(tracked, Granularity.MONTH)]
    untracked_lines = [line["line"] for line in selectors.cost_lines(untracked, Granularity.MONTH)]
    assert tracked_lines == ["total", "total", "unallocated"]
    assert untracked_lines == ["total", "total"]
    # The parent's total includes the remainder either way.
    assert total(untracked) == Decimal(13)


def test_report_settings_decide_charges_and_amortization(organization, aws):
    row(aws, charge_category="Usage", billed_cost=Decimal(10), effective_cost=Decimal(8))
    row(aws, charge_category="Tax", cost=2)
    row(aws, charge_category="Credit", cost=-3)
    row(aws, charge_category="Usage", charge_class="Correction", cost=-1)
    row(aws, charge_category="Adjustment", cost=-0.5)
    row(aws, charge_category="Purchase", billed_cost=Decimal(20), effective_cost=Decimal(0))
    plain = vql_segment(organization, "Defaults", AWS)
    everything = vql_segment(
        organization,
        "All charges",
        AWS,
        include_credits=True,
        include_refunds=True,
        include_tax=True,
        include_discounts=True,
        amortize=False,
    )

    def vantage_cost(segment):
        (line,) = selectors.cost_lines(segment, Granularity.MONTH)[:1]
        return sum(Decimal(str(point["cost"])) for point in line["points"])

    # Defaults: discounts and tax in, credits and refunds out, amortized (effective cost).
    assert vantage_cost(plain) == Decimal("8") + Decimal("2") - Decimal("0.5") + Decimal("0")
    # Everything, billed: 10 + 2 - 3 - 1 - 0.5 + 20.
    assert vantage_cost(everything) == Decimal("27.5")
    # The Archera surface counts every charge, whatever the settings.
    (month,) = selectors.monthly_metrics([plain.pk])[plain.pk]
    assert month["billed_cost"] == 27.5


def test_metrics_definitions(organization, aws):
    row(
        aws,
        resource_id="i-1",
        pricing_category="Committed",
        commitment_discount_id="ri-1",
        billed_cost=Decimal(0),
        effective_cost=Decimal(6),
        list_cost=Decimal(10),
        consumed_quantity=Decimal(24),
    )
    row(
        aws,
        resource_id="i-2",
        pricing_category="Standard",
        billed_cost=Decimal(10),
        effective_cost=Decimal(10),
        list_cost=Decimal(10),
        consumed_quantity=Decimal(12),
    )
    row(
        aws,
        resource_id="i-2",
        pricing_category="Dynamic",
        billed_cost=Decimal(3),
        effective_cost=Decimal(3),
        list_cost=Decimal(9),
        consumed_quantity=Decimal(5),
    )
    segment = vql_segment(organization, "AWS", AWS)
    (month,) = selectors.monthly_metrics([segment.pk])[segment.pk]
    assert month["month"] == "2026-10"
    assert month["effective_cost"] == 19
    assert month["list_cost"] == 29
    assert month["on_demand_cost"] == 29
    assert month["committed_cost"] == 6
    assert month["savings"] == 10
    assert month["coverage"] == 0.5  # committed list 10 of eligible list 20
    assert month["usage_quantity"] == 41
    assert month["resource_count"] == 2


def test_daily_and_monthly_agree(organization, aws):
    row(aws, charge_period_start=datetime.date(2026, 10, 1), cost=1)
    row(aws, charge_period_start=datetime.date(2026, 10, 31), cost=2)
    row(aws, charge_period_start=datetime.date(2026, 11, 1), cost=4)
    segment = vql_segment(organization, "AWS", AWS)
    months = selectors.monthly_metrics([segment.pk])[segment.pk]
    assert [(m["month"], m["billed_cost"]) for m in months] == [("2026-10", 3), ("2026-11", 4)]
    days = selectors.daily_metrics(segment, OCT, datetime.date(2026, 11, 30))
    assert [(d["date"], d["billed_cost"]) for d in days] == [
        ("2026-10-01", 1),
        ("2026-10-31", 2),
        ("2026-11-01", 4),
    ]


def test_refresh_of_some_months_keeps_the_others(organization, aws):
    row(aws, charge_period_start=datetime.date(2026, 10, 2), cost=1)
    late = row(aws, charge_period_start=datetime.date(2026, 11, 2), cost=4)
    segment = vql_segment(organization, "AWS", AWS)
    replace_rows(aws, [{**vars(late), "billed_cost": Decimal(40)}])  # November re-imported
    services.segment_tree_refresh(segment.pk, [NOV])
    months = selectors.monthly_metrics([segment.pk])[segment.pk]
    assert [m["billed_cost"] for m in months] == [1, 40]


def test_status_and_report_token_after_refresh(organization, aws):
    row(aws)
    segment = vql_segment(organization, "AWS", AWS)
    segment.refresh_from_db()
    assert segment.status == Status.COMPLETED
    assert segment.report_token.startswith("rprt_")
    token = segment.report_token
    with committed():
        services.segment_update(segment, name="Renamed")
    services.segment_tree_refresh(segment.pk)
    segment.refresh_from_db()
    assert segment.report_token == token


def test_system_segment_appears_with_the_first_integration(organization):
    from costs.services import integration_create

    with committed():
        integration_create(organization, "azure", "Azure EA")
        integration_create(organization, "azure", "Second Azure")
    (system,) = Segment.objects.filter(organization=organization, is_system_generated=True)
    assert (system.name, system.provider) == ("provider-resources", "azure")
