"""Cost rows in tests: write them to the columnar store as an import would, and read back
what the store holds with plain pyarrow (independent of the engine under test)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from costs.columnar.models import ColumnarPartition
from costs.columnar.schema import SCHEMA
from costs.columnar.store import store_root, table_from_rows, write_tables
from costs.models import CostRow


def period_rows(integration_id, period: date) -> pa.Table:
    """The rows the store holds for one integration's billing period."""
    partition = ColumnarPartition.objects.filter(
        integration_id=integration_id, billing_period_start=period, active=True
    ).first()
    if partition is None:
        return SCHEMA.empty_table()
    root = store_root()
    return pa.concat_tables(pq.read_table(root / name, schema=SCHEMA) for name in partition.files)


def append_rows(integration, rows: list[dict]) -> None:
    """Add rows to the store: each billing period they touch is rewritten with the rows it
    held plus the new ones (a test's stand-in for importing a file)."""
    by_period: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        by_period[row["billing_period_start"]].append(row)
    tables = [
        pa.concat_tables([period_rows(integration.pk, period), table_from_rows(new)])
        for period, new in sorted(by_period.items())
    ]
    write_tables(integration, tables)


def replace_rows(integration, rows: list[dict]) -> None:
    """Make ``rows`` the whole content of the billing periods they touch (a re-import)."""
    write_tables(integration, [table_from_rows(rows)])


def stored_rows(organization_id=None, **equal) -> list[dict]:
    """Every active row (optionally of one organization, and with columns equal to the given
    values), as dicts with tags as a dict, read with pyarrow."""
    partitions = ColumnarPartition.objects.filter(active=True)
    if organization_id is not None:
        partitions = partitions.filter(organization_id=organization_id)
    root = store_root()
    rows = []
    for partition in partitions:
        for name in partition.files:
            for row in pq.read_table(root / name, schema=SCHEMA).to_pylist():
                row["tags"] = dict(row["tags"])
                if all(row[key] == _as_text(value, key) for key, value in equal.items()):
                    rows.append(row)
    return rows


def _as_text(value, key):
    return str(value) if key in ("organization_id", "integration_id") else value


def stored_count(organization_id=None, **equal) -> int:
    return len(stored_rows(organization_id, **equal))


def copy_to_row_store(organization_id=None) -> int:
    """Copy the stored rows (of one organization, or all) into the legacy row store
    (``costs.CostRow``), for tests that compare the columnar engine with the row-store engine."""
    rows = [CostRow(**row) for row in stored_rows(organization_id)]
    CostRow.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def stored():
    """The store's active rows as a queryset: copied afresh (with pyarrow, not the engine under
    test) into the legacy row table, so a test can ask the ORM about them."""
    CostRow.objects.all().delete()
    copy_to_row_store()
    return CostRow.objects.all()
