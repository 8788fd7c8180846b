"""The daily rollup: a billing period's rows summed per day and per every dimension a cost
question filters or groups by without needing resource-level rows.

The import writes it next to the period's raw files (same generation, same manifest row), so the
two are replaced together and always describe the same rows. Readers that need no resource-level
column (resource id, SKU, description, quantities) read the rollup: the cost explorer,
``/api/v1/costs`` and the overview. Rows with the same dimensions on the same day fold into one;
how much that saves depends on how varied the tags are (measured in docs/columnar.md).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from costs.focus import MONEY_COLUMNS

from .engine import execute, rows_source
from .schema import SCHEMA, column_type
from .sql import string_literal

# The dimensions kept (every column of ``store.SCHEMA`` but the resource-level ones).
ROLLUP_KEYS = (
    "organization_id",
    "integration_id",
    "provider",
    "billing_account_id",
    "billing_account_name",
    "sub_account_id",
    "sub_account_name",
    "service_name",
    "service_category",
    "service_subcategory",
    "region_id",
    "charge_category",
    "charge_class",
    "pricing_category",
    "commitment_discount_type",
    "billing_currency",
    "operating_system",
    "tenancy",
    "instance_family",
    "charge_period_start",
    "billing_period_start",
    "tags",
)
ROLLUP_MONEY = tuple(MONEY_COLUMNS)
# Sums of decimal(28, 10) are decimal(38, 10): exact, whatever the number of rows folded.
SUM_TYPE = pa.decimal128(38, 10)


def rollup_structure() -> str:
    """The rollup files' structure as ClickHouse reads them."""
    columns = [f"{name} {column_type(name)}" for name in ROLLUP_KEYS]
    columns += [f"{name} Decimal(38, 10)" for name in ROLLUP_MONEY]
    columns.append("row_count UInt64")
    return ", ".join(columns)


def rollup_sql(source: str) -> str:
    keys = ", ".join(ROLLUP_KEYS)
    sums = ", ".join(f"sum({name}) AS {name}" for name in ROLLUP_MONEY)
    return f"SELECT {keys}, {sums}, count() AS row_count FROM {source} GROUP BY {keys}"


# Below this many rows a period's rollup is its rows as they are (``row_count`` 1 each): still a
# valid rollup (readers only sum it), and cheaper to write than a grouped query is to run.
FOLD_FROM_ROWS = 20_000


# The grouped query spills to disk past this much memory, so a large period's rollup does not
# hold every group in memory (ClickHouse's external aggregation).
GROUP_BY_MEMORY_BYTES = 128 * 1024 * 1024


def _fields() -> list[pa.Field]:
    fields = [SCHEMA.field(name) for name in ROLLUP_KEYS]
    fields += [pa.field(name, SUM_TYPE, nullable=False) for name in ROLLUP_MONEY]
    fields.append(pa.field("row_count", pa.uint64(), nullable=False))
    return fields


def write_rollup(files: list[Path], rows: int, target: Path, compression: str) -> None:
    """Write the rollup of the given raw files (``rows`` rows) to ``target``.

    A small period's rollup is its rows as they are (read and written by pyarrow); a larger one
    is folded by the engine, which writes the file itself (nothing is held in Python) with its
    grouping bounded in memory."""
    if rows < FOLD_FROM_ROWS:
        table = pa.concat_tables(
            pq.read_table(path, columns=[*ROLLUP_KEYS, *ROLLUP_MONEY], schema=SCHEMA)
            for path in files
        )
        table = table.append_column("row_count", pa.array([1] * table.num_rows, pa.uint64()))
        table = table.select([field.name for field in _fields()]).cast(pa.schema(_fields()))
        pq.write_table(table, target, compression=compression)
        return
    output = f"file({string_literal(str(target))}, 'Parquet', {string_literal(rollup_structure())})"
    execute(
        f"INSERT INTO FUNCTION {output} {rollup_sql(rows_source(files))} "
        f"SETTINGS max_bytes_before_external_group_by = {GROUP_BY_MEMORY_BYTES}, "
        f"output_format_parquet_compression_method = {string_literal(compression)}"
    )
