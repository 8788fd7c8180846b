"""FOCUS export of allocated costs: a segment's cost rows for a month, each split across the
customers that used the business metric that day, as FOCUS columns plus ``x_`` columns.

Every cost row the segment counts (its filter and its ancestors', the charge kinds of its
top-level settings) becomes one row per share of its day:

- a customer's share: ``usage_cd / Σ usage_d`` (``x_AllocationLine = customer``);
- usage whose label is no customer (``unattributed``), or the whole row on a day without usage
  (``idle``): the same rule as the cost-to-serve page, so every figure matches it.

Each money and quantity column is split exactly at the store's precision (10 decimals): the
pieces of a row are floored and the units left go to the largest remainders, so the pieces
of every row add up to the row, and the file's sums equal the source rows' exactly.

Tags are carried as read through ``costs.columnar.query`` (provider tags and, where
configured, virtual tags): in FOCUS's ``Tags`` (JSON) and flattened as ``x_Tag_<key>``.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from costs.columnar.query import ROWS, select
from costs.columnar.sql import Params
from metrics.models import Customer
from segments.engine import charge_kind_sql
from segments.filter_tree import from_json
from segments.filter_tree.sql import to_sql
from segments.models import Segment
from segments.selectors import included_kinds

from .cost_to_serve import IDLE, UNATTRIBUTED
from .models import BusinessMetric
from .selectors import daily_values

UNIT = Decimal("1e-10")
SCALE = 10**10
# Store column -> FOCUS column, in the order FOCUS lists them.
FOCUS_COLUMNS = {
    "billing_account_id": "BillingAccountId",
    "billing_account_name": "BillingAccountName",
    "sub_account_id": "SubAccountId",
    "sub_account_name": "SubAccountName",
    "provider": "ProviderName",
    "billing_period_start": "BillingPeriodStart",
    "charge_period_start": "ChargePeriodStart",
    "charge_category": "ChargeCategory",
    "charge_class": "ChargeClass",
    "charge_description": "ChargeDescription",
    "service_name": "ServiceName",
    "service_category": "ServiceCategory",
    "service_subcategory": "ServiceSubcategory",
    "region_id": "RegionId",
    "resource_id": "ResourceId",
    "resource_type": "ResourceType",
    "sku_id": "SkuId",
    "pricing_category": "PricingCategory",
    "pricing_unit": "PricingUnit",
    "consumed_unit": "ConsumedUnit",
    "commitment_discount_id": "CommitmentDiscountId",
    "commitment_discount_type": "CommitmentDiscountType",
    "billing_currency": "BillingCurrency",
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
    "pricing_quantity": "PricingQuantity",
    "consumed_quantity": "ConsumedQuantity",
}
SPLIT_COLUMNS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "pricing_quantity",
    "consumed_quantity",
)
EXTRA_COLUMNS = (
    "ChargePeriodEnd",
    "Tags",
    "x_SegmentName",
    "x_SegmentToken",
    "x_BusinessMetric",
    "x_AllocationLine",
    "x_CustomerId",
    "x_CustomerName",
    "x_CustomerShare",
)


def _segment_chain(segment: Segment) -> list[Segment]:
    chain, seen = [], set()
    while segment is not None and segment.pk not in seen:
        seen.add(segment.pk)
        chain.append(segment)
        segment = segment.parent
    return chain


def source_rows(segment: Segment, start: datetime.date, end: datetime.date) -> list[dict]:
    """The cost rows the segment counts in the range, with their tags as the store reads them."""
    params = Params()
    where = [
        f"charge_period_start >= {params.day(start)}",
        f"charge_period_start <= {params.day(end)}",
        f"{charge_kind_sql()} IN ({', '.join(params.text(k) for k in included_kinds(segment))})",
    ]
    for member in _segment_chain(segment):
        if member.filter_tree:
            where.append(f"({to_sql(from_json(member.filter_tree), params)})")
    columns = ", ".join([*FOCUS_COLUMNS, "tags"])
    sql = (
        f"SELECT {columns} FROM {ROWS} WHERE {' AND '.join(where)} "
        "ORDER BY charge_period_start, resource_id, sku_id"
    )
    return select(segment.organization_id, sql, params.values).to_pylist()


def _units(value) -> int:
    return int((Decimal(value) * SCALE).to_integral_value())


def split_exactly(value: Decimal | None, weights: list[int]) -> list[Decimal | None]:
    """``value`` split in proportion to integer ``weights``, in store units (1e-10): floors,
    then one unit each to the largest remainders, so the pieces add up to ``value``."""
    if value is None:
        return [None] * len(weights)
    units, total = _units(value), sum(weights)
    pieces = [units * weight // total for weight in weights]
    remainders = [
        units * weight - piece * total for weight, piece in zip(weights, pieces, strict=True)
    ]
    left = units - sum(pieces)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        pieces[index] += 1
    return [Decimal(piece) * UNIT for piece in pieces]


def allocated_rows(
    segment: Segment, metric: BusinessMetric, start: datetime.date, end: datetime.date
) -> tuple[list[str], list[list]]:
    """The export's columns and rows (see the module's docstring)."""
    customers = {
        customer.external_id: customer.name
        for customer in Customer.objects.filter(organization_id=metric.organization_id)
    }
    shares: dict[datetime.date, list[tuple[str, str, int]]] = defaultdict(list)
    for day, label, amount in daily_values(metric, start, end):
        if amount <= 0:
            continue
        line = "customer" if label in customers else UNATTRIBUTED
        shares[day].append((line, label, _units(amount)))
    rows = source_rows(segment, start, end)
    for row in rows:  # Arrow reads a map as (key, value) pairs
        row["tags"] = {key: value for key, value in row["tags"] or () if value is not None}
    tag_keys = sorted({key for row in rows for key in row["tags"]})
    columns = [
        *FOCUS_COLUMNS.values(),
        *EXTRA_COLUMNS,
        *(f"x_Tag_{key}" for key in tag_keys),
    ]
    out = []
    for row in rows:
        day = row["charge_period_start"]
        pieces = shares.get(day) or [(IDLE, "", 1)]
        weights = [weight for _, _, weight in pieces]
        total_weight = sum(weights)
        split = {name: split_exactly(row[name], weights) for name in SPLIT_COLUMNS}
        tags = row["tags"]
        for index, (line, label, weight) in enumerate(pieces):
            values = [split[name][index] if name in split else row[name] for name in FOCUS_COLUMNS]
            out.append(
                [
                    *values,
                    day + datetime.timedelta(days=1),
                    json.dumps(tags, sort_keys=True),
                    segment.name,
                    segment.token,
                    metric.title,
                    line,
                    label if line == "customer" else "",
                    customers.get(label, "") if line == "customer" else "",
                    (Decimal(weight) / total_weight).quantize(UNIT),
                    *(tags.get(key, "") for key in tag_keys),
                ]
            )
    return columns, out


def write_files(directory: Path, columns: list[str], rows: list[list]) -> list[str]:
    """``allocated_costs.csv`` and ``allocated_costs.parquet`` (money as decimal(28, 10))."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "allocated_costs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    money = {FOCUS_COLUMNS[name] for name in SPLIT_COLUMNS} | {"x_CustomerShare"}
    dates = {"BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"}

    def kind(name):
        if name in money:
            return pa.decimal128(28, 10)
        if name in dates:
            return pa.date32()
        return pa.string()

    table = pa.table(
        {
            name: pa.array([row[index] for row in rows], type=kind(name))
            for index, name in enumerate(columns)
        }
    )
    pq.write_table(table, directory / "allocated_costs.parquet")
    return ["allocated_costs.csv", "allocated_costs.parquet"]
