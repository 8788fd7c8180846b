"""The columns of the store's Parquet files, as Arrow writes them and ClickHouse reads them."""

from __future__ import annotations

import pyarrow as pa

from costs.focus import COPY_COLUMNS, DATE_COLUMNS, MONEY_COLUMNS, QUANTITY_COLUMNS

MONEY_TYPE = pa.decimal128(28, 10)
TAGS_TYPE = pa.map_(pa.string(), pa.string())


def _schema() -> pa.Schema:
    fields = []
    for name in COPY_COLUMNS:
        if name in MONEY_COLUMNS:
            fields.append(pa.field(name, MONEY_TYPE, nullable=False))
        elif name in QUANTITY_COLUMNS:
            fields.append(pa.field(name, MONEY_TYPE))
        elif name in DATE_COLUMNS:
            fields.append(pa.field(name, pa.date32(), nullable=False))
        elif name == "tags":
            fields.append(pa.field(name, TAGS_TYPE, nullable=False))
        else:
            fields.append(pa.field(name, pa.string(), nullable=False))
    return pa.schema(fields)


SCHEMA = _schema()


def column_type(name: str) -> str:
    """A raw column's ClickHouse type."""
    if name in MONEY_COLUMNS:
        return "Decimal(28, 10)"
    if name in QUANTITY_COLUMNS:
        return "Nullable(Decimal(28, 10))"
    if name in DATE_COLUMNS:
        return "Date"
    if name == "tags":
        return "Map(String, Nullable(String))"
    return "String"


# The raw files' structure as ClickHouse reads them (fixed, whatever a file's own metadata).
STRUCTURE = ", ".join(f"{name} {column_type(name)}" for name in SCHEMA.names)
