"""Unit costs: a segment's cost ÷ a metric's usage, per window, checked against raw inputs."""

import datetime
import re
from decimal import Decimal

from django.test import TestCase

from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..factories import CostRowFactory, IntegrationFactory
from .conftest import event, ingest


def test_unit_cost_per_month(token_client, organization, make_metric, customer):
    integration = IntegrationFactory(organization=organization, provider="aws")
    costs = {
        datetime.date(2026, 9, 10): Decimal("30"),
        datetime.date(2026, 10, 3): Decimal("50"),
        datetime.date(2026, 10, 20): Decimal("10"),
    }
    for day, cost in costs.items():
        CostRowFactory(
            integration=integration, charge_period_start=day, billed_cost=cost, effective_cost=cost
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name="API fleet", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    metric = make_metric()
    ingest(
        organization,
        [event(i, customer, "2026-09-05") for i in range(3)]
        + [event(10 + i, customer, "2026-10-07") for i in range(4)],
    )
    response = token_client.get(
        f"/api/v1/unit-costs?segment={segment.token}&metric={metric.pk}&window=month"
        "&from=2026-08-01&to=2026-10-31"
    )
    assert response.status_code == 200, response.json()
    points = {p["start"]: p for p in response.json()["points"]}
    # Independent: September 30 / 3 calls, October (50 + 10) / 4 calls, August no usage.
    assert points["2026-09-01"]["unit_cost"] == 10
    assert points["2026-10-01"]["cost"] == 60 and points["2026-10-01"]["usage"] == 4
    assert points["2026-10-01"]["unit_cost"] == 15
    assert points["2026-08-01"]["unit_cost"] is None
    by_id = token_client.get(
        f"/api/v1/unit-costs?segment={segment.pk}&metric={metric.pk}&from=2026-10-01&to=2026-10-31"
    )
    assert by_id.json()["points"][0]["unit_cost"] == 15


def test_unit_cost_bad_input(token_client, other_token_client, organization, make_metric):
    metric = make_metric()
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name="S", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    base = "/api/v1/unit-costs"
    assert "segment" in token_client.get(f"{base}?metric={metric.pk}").json()
    assert (
        token_client.get(
            f"{base}?segment=fltr_sgmt_0000000000000000&metric={metric.pk}"
        ).status_code
        == 404
    )
    assert token_client.get(f"{base}?segment={segment.token}&metric=bm_nope").status_code == 404
    assert (
        token_client.get(
            f"{base}?segment={segment.token}&metric={metric.pk}&window=week"
        ).status_code
        == 400
    )
    assert (
        token_client.get(f"{base}?segment={segment.token}&metric={metric.pk}&from=soon").status_code
        == 400
    )
    assert (
        other_token_client.get(f"{base}?segment={segment.token}&metric={metric.pk}").status_code
        == 404
    )


def test_metric_page_charts_unit_cost_of_a_segment(
    client, user, organization, make_metric, customer
):
    integration = IntegrationFactory(organization=organization, provider="aws")
    CostRowFactory(
        integration=integration,
        charge_period_start=datetime.date(2026, 10, 3),
        billed_cost=Decimal(12),
        effective_cost=Decimal(12),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    metric = make_metric()
    ingest(organization, [event(i, customer, "2026-10-03") for i in range(3)])
    client.force_login(user)
    response = client.get(
        f"/metrics/{metric.pk}/?window=day&start=2026-10-01&end=2026-10-05&segment={segment.pk}"
    )
    chart = response.context["unit_chart"]
    assert chart["datasets"][0]["data"][chart["labels"].index("2026-10-03")] == 4.0


def test_unit_cost_money_is_rounded_to_6_decimals(
    token_client, organization, make_metric, customer
):
    integration = IntegrationFactory(organization=organization, provider="aws")
    costs = [Decimal("10.1234567891"), Decimal("5.0000004449")]
    for cost in costs:
        CostRowFactory(
            integration=integration,
            charge_period_start=datetime.date(2026, 10, 3),
            billed_cost=cost,
            effective_cost=cost,
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    metric = make_metric()
    ingest(organization, [event(i, customer, "2026-10-07") for i in range(3)])
    response = token_client.get(
        f"/api/v1/unit-costs?segment={segment.token}&metric={metric.pk}&window=month"
        "&from=2026-10-01&to=2026-10-31"
    )
    assert response.status_code == 200, response.json()
    # Independent: the raw inputs summed and divided in plain Python, then rounded once.
    total = sum(costs)
    [point] = response.json()["points"]
    assert point["cost"] == float(round(total, 6)) == 15.123457
    assert point["unit_cost"] == float(round(total / 3, 6)) == 5.041152
    assert point["usage"] == 3
    for name in ("cost", "unit_cost"):
        assert re.search(rf'"{name}":-?\d+(\.\d{{1,6}})?[,}}]', response.content.decode()), name


def test_a_month_clipped_by_the_range_divides_the_cost_and_usage_of_the_same_days(
    token_client, organization, make_metric, customer
):
    integration = IntegrationFactory(organization=organization, provider="aws")
    costs = {datetime.date(2026, 10, 3): Decimal("30"), datetime.date(2026, 10, 20): Decimal("10")}
    for day, cost in costs.items():
        CostRowFactory(
            integration=integration, charge_period_start=day, billed_cost=cost, effective_cost=cost
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    metric = make_metric()
    calls = {"2026-10-02": 6, "2026-10-07": 4}
    ingest(
        organization,
        [event(f"{day}-{i}", customer, day) for day, count in calls.items() for i in range(count)],
    )
    response = token_client.get(
        f"/api/v1/unit-costs?segment={segment.token}&metric={metric.pk}&window=month"
        "&from=2026-10-05&to=2026-10-31"
    )
    [point] = response.json()["points"]
    # Independent: only what falls on 5–31 October, on both sides of the division.
    first, last = datetime.date(2026, 10, 5), datetime.date(2026, 10, 31)
    cost = sum(value for day, value in costs.items() if first <= day <= last)
    usage = sum(n for day, n in calls.items() if first.isoformat() <= day <= last.isoformat())
    assert (point["start"], point["end"]) == ("2026-10-05", "2026-10-31")
    assert (point["cost"], point["usage"], point["unit_cost"]) == (10, 4, float(cost / usage))
