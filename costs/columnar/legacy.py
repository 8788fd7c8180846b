"""Moving an installation's cost rows from the legacy row store (``costs.CostRow``, PostgreSQL
or SQLite) into the columnar store: ``manage.py costs_to_columnar``.

Per (integration, billing period): the rows stream out with a server-side cursor in batches,
are written as that period's Parquet files and rollup, and in the transaction that switches the
manifest to them the period's rows leave the row store. A period the columnar store already
holds (imported again after the upgrade) is newer than its rows in the row store: those rows
are only deleted. Idempotent: an interrupted run moves the rest when run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from costs.focus import COPY_COLUMNS
from costs.models import CostRow, Integration

from .models import ColumnarPartition
from .store import table_from_rows, write_tables

BATCH_ROWS = 50_000


@dataclass
class MoveResult:
    rows_moved: int = 0
    rows_dropped: int = 0
    periods_moved: list[tuple[str, date]] = field(default_factory=list)
    periods_dropped: list[tuple[str, date]] = field(default_factory=list)


def _batches(rows) -> Iterator[pa.Table]:
    batch = []
    for values in rows.values(*COPY_COLUMNS).iterator(chunk_size=BATCH_ROWS):
        batch.append(values)
        if len(batch) >= BATCH_ROWS:
            yield table_from_rows(batch)
            batch = []
    if batch:
        yield table_from_rows(batch)


def row_store_move(
    organization_id=None, *, report: Callable[[str], None] | None = None
) -> MoveResult:
    """Move every (integration, billing period) still in the row store to the columnar store."""
    result = MoveResult()
    remaining = CostRow.objects.all()
    if organization_id is not None:
        remaining = remaining.filter(organization_id=organization_id)
    periods = (
        remaining.values_list("integration_id", "billing_period_start")
        .distinct()
        .order_by("integration_id", "billing_period_start")
    )
    for integration_id, period in list(periods):
        integration = Integration.objects.get(pk=integration_id)
        rows = CostRow.objects.filter(integration=integration, billing_period_start=period)
        if ColumnarPartition.objects.filter(
            integration=integration, billing_period_start=period, active=True
        ).exists():
            dropped, _ = rows.delete()
            result.rows_dropped += dropped
            result.periods_dropped.append((str(integration.pk), period))
            continue

        def leave_row_store(written, rows=rows):
            rows.delete()

        written = write_tables(integration, _batches(rows), on_switch=leave_row_store)
        result.rows_moved += written.rows_written
        result.periods_moved.append((str(integration.pk), period))
        if report:
            report(f"{integration} {period:%Y-%m}: {written.rows_written:,} rows moved")
    return result
