"""A batch of cost rows, and what the import needs to know about it: its billing periods,
its months and the dimension values (accounts, services, tags...) it brings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from ..models import DimensionField
from .columns import DIMENSION_SOURCES


@dataclass
class FocusBatch:
    """Rows ready for the cost-row table, with what the import needs to know about them."""

    table: pa.Table
    first_row: int
    billing_periods: set[date]
    months: set[date]
    # (billing period, field, key, value)
    dimension_values: set[tuple[date, str, str, str]] = field(default_factory=set)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def describe(table: pa.Table, first_row: int, parsed_tags: dict) -> FocusBatch:
    """The batch of ``table``, with the billing periods, months and dimension values it holds
    (``parsed_tags``: the tag objects by their JSON text, as ``checks.parse_tags`` found them)."""
    billing_periods = set(pc.unique(table.column("billing_period_start")).to_pylist())
    months = {
        day.replace(day=1) for day in pc.unique(table.column("charge_period_start")).to_pylist()
    }
    columns = [*DIMENSION_SOURCES.values(), "tags"]
    if len(billing_periods) == 1:
        (period,) = billing_periods
        distinct = {
            column: [(period, value) for value in pc.unique(table.column(column)).to_pylist()]
            for column in columns
        }
    else:
        distinct = {}
        for column in columns:
            pairs = (
                table.select(["billing_period_start", column])
                .group_by(["billing_period_start", column])
                .aggregate([])
            )
            distinct[column] = list(
                zip(pairs.column(0).to_pylist(), pairs.column(1).to_pylist(), strict=True)
            )
    dimension_values: set[tuple[date, str, str, str]] = set()
    for field_name, column in DIMENSION_SOURCES.items():
        for period, value in distinct[column]:
            if value:
                dimension_values.add((period, str(field_name), "", value))
    # Account names (SubAccountName) by account id: key the id, value the name.
    names = (
        table.select(["billing_period_start", "sub_account_id", "sub_account_name"])
        .group_by(["billing_period_start", "sub_account_id", "sub_account_name"])
        .aggregate([])
        .select(["billing_period_start", "sub_account_id", "sub_account_name"])
    )
    for period, account, name in zip(
        *(column.to_pylist() for column in names.columns),
        strict=True,
    ):
        if account and name:
            dimension_values.add(
                (period, DimensionField.ACCOUNT_NAME.value, account[:255], name[:512])
            )
    for period, raw in distinct["tags"]:
        for key, value in parsed_tags[raw].items():
            text = value if isinstance(value, str) else json.dumps(value)
            dimension_values.add((period, DimensionField.TAG.value, str(key)[:255], text[:512]))
    return FocusBatch(table, first_row, billing_periods, months, dimension_values)
