"""Virtual tags applied where cost rows are read: figures against a plain-Python computation
over the rows the store holds (read back with pyarrow, independent of the engine)."""

from datetime import date
from decimal import Decimal

import pytest

from costs.columnar.query import ROLLUP, ROWS, select_rows
from tests.factories import IntegrationFactory, OrganizationFactory, cost_rows
from virtual_tags.models import VirtualTagConfig

pytestmark = pytest.mark.django_db

SEPT = date(2026, 9, 1)


def by_tag(organization, key, source=ROWS, column="billed_cost"):
    rows = select_rows(
        organization.pk,
        f"SELECT ifNull(tags[{{k:String}}], '') AS value, sum({column}) AS cost "
        f"FROM {source} GROUP BY value ORDER BY value",
        {"k": key},
    )
    return {row["value"]: row["cost"] for row in rows}


@pytest.fixture
def integration():
    return IntegrationFactory(organization=OrganizationFactory())


def config(integration, **fields):
    fields.setdefault("backfill_until", date(2026, 1, 1))
    return VirtualTagConfig.objects.create(organization=integration.organization, **fields)


def test_named_values_by_precedence_and_the_rest_untagged(integration):
    cost_rows(
        integration,
        [
            {
                "service_name": "AmazonEC2",
                "billed_cost": Decimal("10.00"),
                "charge_period_start": SEPT,
            },
            {
                "service_name": "AmazonS3",
                "billed_cost": Decimal("5.50"),
                "charge_period_start": SEPT,
            },
            {
                "service_name": "AmazonRDS",
                "billed_cost": Decimal("2.25"),
                "charge_period_start": SEPT,
            },
        ],
    )
    config(
        integration,
        key="Cost Center",
        values=[
            {"token": "v1", "filter": "costs.service = 'AmazonEC2'", "name": "Compute"},
            # EC2 matches both: the first value wins.
            {"token": "v2", "filter": "costs.service IN ('AmazonEC2', 'AmazonS3')", "name": "Data"},
        ],
    )
    for source in (ROWS, ROLLUP):
        assert by_tag(integration.organization, "Cost Center", source) == {
            "": Decimal("2.25"),
            "Compute": Decimal("10.00"),
            "Data": Decimal("5.50"),
        }


def test_percentages_split_exactly(integration):
    cost_rows(
        integration,
        [{"billed_cost": Decimal("10.0000000001"), "charge_period_start": SEPT}] * 3,
    )
    config(
        integration,
        key="Team",
        values=[
            {
                "token": "v1",
                "filter": "costs.provider = 'aws'",
                "percentages": [
                    {"value": "a", "pct": 33.33},
                    {"value": "b", "pct": 33.33},
                    {"value": "c", "pct": 33.34},
                ],
            }
        ],
    )
    result = by_tag(integration.organization, "Team")
    assert sum(result.values()) == Decimal("30.0000000003")
    assert set(result) == {"a", "b", "c"}
    assert result["a"] == Decimal("3") * (Decimal("10.0000000001") * Decimal("0.3333")).quantize(
        Decimal("1e-10"), rounding="ROUND_DOWN"
    )
