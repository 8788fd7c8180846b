"""FOCUS export of allocated costs: CSV and Parquet whose sums equal the source rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import duckdb
import pytest

from business import services
from business.cost_to_serve import cost_to_serve, month_range, segment_source
from business.focus_export import split_exactly
from reports.models import DataExport
from reports.services import export_directory

from ..segments.conftest import committed, vql_segment
from .test_cost_to_serve import generated_usage

pytestmark = pytest.mark.django_db

AUGUST = datetime.date(2026, 8, 1)
MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


@pytest.fixture
def export(organization, imported, api_calls):
    generated_usage(organization, customers=10, events=250, seed=11)
    with committed():
        metric = services.business_metric_create(
            organization, title="API calls", billable_metric=api_calls, label_dimension="customer"
        )
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    with committed():
        created = services.focus_export_create(
            organization, segment=segment, metric=metric, month=AUGUST, created_by=None
        )
    created.refresh_from_db()
    assert created.status == DataExport.Status.COMPLETED, created.error
    return created, segment, metric


def test_sums_equal_the_source_rows_in_csv_and_parquet(export, imported):
    created, segment, metric = export
    directory = export_directory(created)
    source = duckdb.sql(
        f"""
        SELECT {", ".join(f"sum(CAST({c} AS DECIMAL(38, 10)))" for c in MONEY)}, count(*)
        FROM read_csv('{imported}', all_varchar=true, header=true)
        WHERE coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
          AND substr(ChargePeriodStart, 1, 7) = '2026-08'
        """
    ).fetchall()[0]
    for relation in (
        f"read_csv('{directory / 'allocated_costs.csv'}', all_varchar=true, header=true)",
        f"read_parquet('{directory / 'allocated_costs.parquet'}')",
    ):
        exported = duckdb.sql(
            f"SELECT {', '.join(f'sum(CAST({c} AS DECIMAL(38, 10)))' for c in MONEY)} "
            f"FROM {relation}"
        ).fetchall()[0]
        assert exported == source[:4], relation


def test_customer_columns_match_the_cost_to_serve_page(export):
    created, segment, metric = export
    parquet = export_directory(created) / "allocated_costs.parquet"
    by_line = dict(
        duckdb.sql(
            f"""
            SELECT CASE WHEN x_AllocationLine = 'customer' THEN x_CustomerId
                        ELSE x_AllocationLine END,
                   sum(EffectiveCost)
            FROM read_parquet('{parquet}') GROUP BY 1
            """
        ).fetchall()
    )
    split = cost_to_serve(segment_source(segment), metric, *month_range(AUGUST))
    for line in split.lines:
        assert abs(by_line.get(line.key, Decimal(0)) - line.exact_cost) < Decimal("1e-7"), line.key
    outside = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{parquet}') "
        "WHERE x_CustomerShare <= 0 OR x_CustomerShare > 1"
    ).fetchall()[0][0]
    assert outside == 0


def test_focus_and_extension_columns_are_present(export):
    created, *_ = export
    parquet = export_directory(created) / "allocated_costs.parquet"
    columns = [
        name
        for name, *_ in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    ]
    for name in (
        "BillingAccountId",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "EffectiveCost",
        "ServiceName",
        "Tags",
        "x_SegmentName",
        "x_CustomerId",
        "x_CustomerShare",
        "x_AllocationLine",
    ):
        assert name in columns, name


@pytest.mark.parametrize(
    ("value", "weights"),
    [
        (Decimal("0.0000000001"), [1, 1, 1]),
        (Decimal("-12.3456789012"), [3, 7, 11]),
        (Decimal("100"), [1] * 7),
        (Decimal("0"), [5, 5]),
    ],
)
def test_split_exactly_adds_up_to_the_value(value, weights):
    pieces = split_exactly(value, weights)
    assert sum(pieces) == value
