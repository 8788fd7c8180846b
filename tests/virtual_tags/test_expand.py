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


def test_a_query_reading_tags_whole_sees_the_virtual_tag_in_each_map(integration):
    cost_rows(
        integration,
        [
            {"service_name": "AmazonEC2", "charge_period_start": SEPT, "tags": {"env": "prod"}},
            {"service_name": "AmazonS3", "charge_period_start": SEPT},
        ],
    )
    config(
        integration,
        key="Team",
        values=[{"token": "v1", "filter": "costs.service = 'AmazonEC2'", "name": "compute"}],
    )
    rows = select_rows(
        integration.organization.pk, f"SELECT service_name, tags FROM {ROWS} ORDER BY 1"
    )
    assert [dict(row["tags"]) for row in rows] == [{"env": "prod", "Team": "compute"}, {}]


def test_emptiness_and_presence_count_virtual_tags(integration):
    cost_rows(
        integration,
        [
            {"service_name": "AmazonEC2", "billed_cost": Decimal("1"), "charge_period_start": SEPT},
            {"service_name": "AmazonS3", "billed_cost": Decimal("2"), "charge_period_start": SEPT},
        ],
    )
    config(
        integration,
        key="Team",
        values=[{"token": "v1", "filter": "costs.service = 'AmazonEC2'", "name": "compute"}],
    )
    organization_id = integration.organization.pk
    for source in (ROWS, ROLLUP):
        untagged = select_rows(
            organization_id, f"SELECT sum(billed_cost) AS c FROM {source} WHERE empty(tags)"
        )
        tagged = select_rows(
            organization_id,
            f"SELECT sum(billed_cost) AS c FROM {source} "
            "WHERE notEmpty(tags) AND mapContains(tags, {k:String})",
            {"k": "Team"},
        )
        assert (untagged[0]["c"], tagged[0]["c"]) == (Decimal("2"), Decimal("1"))


def test_a_later_tag_can_test_an_earlier_one(integration):
    cost_rows(
        integration,
        [
            {"service_name": "AmazonEC2", "billed_cost": Decimal("4"), "charge_period_start": SEPT},
            {"service_name": "AmazonS3", "billed_cost": Decimal("6"), "charge_period_start": SEPT},
        ],
    )
    config(
        integration,
        key="Team",
        values=[{"token": "v1", "filter": "costs.service = 'AmazonEC2'", "name": "compute"}],
    )
    config(
        integration,
        key="Division",
        values=[
            {
                "token": "v2",
                "filter": "tags.name = 'Team' AND tags.value = 'compute'",
                "name": "engineering",
            }
        ],
    )
    assert by_tag(integration.organization, "Division") == {
        "": Decimal("6"),
        "engineering": Decimal("4"),
    }


def test_rows_before_backfill_until_are_left_alone(integration):
    cost_rows(
        integration,
        [
            {"billed_cost": Decimal("3"), "charge_period_start": date(2026, 8, 31)},
            {"billed_cost": Decimal("5"), "charge_period_start": SEPT},
        ],
    )
    config(
        integration,
        key="Team",
        backfill_until=date(2026, 9, 1),
        values=[{"token": "v1", "filter": "", "name": "all"}],
    )
    assert by_tag(integration.organization, "Team") == {"": Decimal("3"), "all": Decimal("5")}


def test_a_rollup_reader_gets_raw_rows_when_a_tag_tests_a_resource(integration):
    cost_rows(
        integration,
        [
            {"resource_id": "i-1", "billed_cost": Decimal("2"), "charge_period_start": SEPT},
            {"resource_id": "i-2", "billed_cost": Decimal("7"), "charge_period_start": SEPT},
        ],
    )
    config(
        integration,
        key="App",
        values=[{"token": "v1", "filter": "costs.resource_id = 'i-2'", "name": "checkout"}],
    )
    for source in (ROWS, ROLLUP):
        assert by_tag(integration.organization, "App", source) == {
            "": Decimal("2"),
            "checkout": Decimal("7"),
        }
