"""Reads: filter values from the dimension table, the cost window, series shaping."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import ServiceError
from costs import selectors, services
from costs.columnar.models import ColumnarPartition
from tests.factories import CostRowFactory

from .focus_files import distinct_values


def test_filter_values_have_the_archera_shape_for_aws(
    aws_integration, aws_csv, django_assert_num_queries
):
    services.focus_import(aws_integration, aws_csv)

    with django_assert_num_queries(2):
        values = selectors.filter_values(aws_integration.organization, "aws")

    assert set(values) == {
        "integration_id",
        "account_id",
        "service",
        "region",
        "operating_system",
        "tenancy",
        "instance_family",
        "tags",
    }
    assert values["integration_id"] == [str(aws_integration.pk)]
    assert values["service"] == sorted(distinct_values(aws_csv, "ServiceName"))
    assert values["region"] == sorted(distinct_values(aws_csv, "RegionId"))
    assert values["account_id"] == sorted(distinct_values(aws_csv, "SubAccountId"))
    assert values["tenancy"] == ["Dedicated", "Shared"]
    assert values["instance_family"] == ["c6i", "m5", "m6i", "r6g", "r6i", "t3"]
    assert values["tags"]["Environment"] == ["dev", "prod", "staging"]


def test_filter_values_of_other_providers_omit_aws_fields(organization, gcp_csv):
    gcp = services.integration_create(organization, "gcp")
    services.focus_import(gcp, gcp_csv)
    values = selectors.filter_values(organization, "gcp")
    assert "operating_system" not in values
    assert values["integration_id"] == [str(gcp.pk)]
    assert selectors.filter_values(organization, "azure")["service"] == []


def test_filter_values_never_read_cost_rows(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    ColumnarPartition.objects.all().delete()
    assert selectors.filter_values(aws_integration.organization, "aws")["service"]


@pytest.mark.parametrize(
    ("start", "end", "granularity", "expected"),
    [
        (None, None, "day", (date(2026, 9, 1), date(2026, 11, 20))),
        (date(2026, 10, 5), None, "day", (date(2026, 10, 5), date(2026, 11, 20))),
        (None, date(2026, 5, 10), "month", (date(2026, 3, 1), date(2026, 5, 10))),
        (date(2020, 1, 1), date(2026, 1, 1), "month", (date(2020, 1, 1), date(2026, 1, 1))),
    ],
)
def test_cost_window_defaults(start, end, granularity, expected):
    assert selectors.cost_window(start, end, granularity, date(2026, 11, 20)) == expected


def test_cost_window_refuses_reversed_and_oversized_ranges():
    with pytest.raises(ServiceError) as reversed_range:
        selectors.cost_window(date(2026, 2, 1), date(2026, 1, 1), "day", date(2026, 3, 1))
    assert reversed_range.value.field == "end"
    with pytest.raises(ServiceError) as too_long:
        selectors.cost_window(date(2024, 1, 1), date(2026, 1, 1), "day", date(2026, 3, 1))
    assert too_long.value.field == "start"


def test_cost_series_folds_small_groups_into_others(aws_integration):
    for index, service in enumerate(["A", "B", "C", "D"]):
        CostRowFactory(
            integration=aws_integration,
            service_name=service,
            effective_cost=Decimal(10 * (index + 1)),
            charge_period_start=date(2026, 10, 2),
        )
    CostRowFactory(
        integration=aws_integration,
        service_name="A",
        region_id="",
        effective_cost=Decimal(1),
        charge_period_start=date(2026, 10, 3),
    )

    series = selectors.cost_series(
        selectors.CostFilter(aws_integration.organization_id),
        group_by="service",
        granularity="day",
        start=date(2026, 10, 1),
        end=date(2026, 10, 3),
        limit=2,
    )

    assert [item["group"] for item in series.series] == ["D", "C", "(others)"]
    assert series.series[-1]["values"] == [Decimal(0), Decimal(30), Decimal(1)]
    assert [group["group"] for group in series.groups] == ["D", "C", "B", "A"]
    assert series.totals["effective_cost"] == Decimal(101)
    by_region = selectors.cost_series(
        selectors.CostFilter(aws_integration.organization_id),
        group_by="region",
        granularity="month",
        start=date(2026, 10, 1),
        end=date(2026, 10, 31),
    )
    assert {group["group"] for group in by_region.groups} == {"us-east-1", "(none)"}
    assert by_region.periods == [date(2026, 10, 1)]


def test_tags_with_numeric_looking_keys_and_values_group_and_filter(aws_integration):
    CostRowFactory(
        integration=aws_integration,
        tags={"2024": "budget", "size": 500},
        effective_cost=Decimal(7),
        charge_period_start=date(2026, 10, 2),
    )
    CostRowFactory(
        integration=aws_integration,
        tags={},
        effective_cost=Decimal(3),
        charge_period_start=date(2026, 10, 2),
    )
    from costs.filters import CostRowFilter

    def groups(group_by, query):
        filterset = CostRowFilter(query)
        assert filterset.is_valid()
        series = selectors.cost_series(
            filterset.cost_filter(aws_integration.organization),
            group_by=group_by,
            granularity="month",
            start=date(2026, 10, 1),
            end=date(2026, 10, 31),
        )
        return {group["group"]: group["effective_cost"] for group in series.groups}

    assert groups("tag:2024", {}) == {"budget": Decimal(7), "(none)": Decimal(3)}
    assert groups("tag:size", {"tag": ["size=500"]}) == {"500": Decimal(7)}
    assert groups("provider", {"tag": ["2024"]}) == {"aws": Decimal(7)}
