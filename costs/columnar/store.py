"""Writing FOCUS rows to Parquet partitions and keeping their manifest.

Layout under the store's root (``COSTLINE_COLUMNAR_ROOT``, default ``var/columnar``)::

    organization=<uuid>/integration=<uuid>/billing_period=<YYYY-MM-DD>/part-<token>.parquet

the Hive-style layout a ClickHouse cluster reads from object storage as it is. Each file holds
the columns of ``CostRow`` (``costs.focus.COPY_COLUMNS``), typed for the engine: money as
``decimal(28, 10)`` (the database's ``numeric(28, 10)``), days as ``date32``, tags as a map.

Rows stream batch by batch from ``costs.focus`` into one ``ParquetWriter`` per billing period,
so memory stays flat whatever the file size. A write replaces the integration's billing periods
it contains atomically: new files first, then one transaction switches the manifest
(``ColumnarPartition``) to them; the replaced files are removed after the commit.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from costs.focus import (
    COPY_COLUMNS,
    DATE_COLUMNS,
    MONEY_COLUMNS,
    QUANTITY_COLUMNS,
    FocusBatch,
    open_integration_files,
)
from costs.models import Integration

from .models import ColumnarPartition

logger = logging.getLogger(__name__)

MONEY_TYPE = pa.decimal128(28, 10)
TAGS_TYPE = pa.map_(pa.string(), pa.string())
# Rows buffered per billing period before they become one Parquet row group.
ROW_GROUP_ROWS = 128 * 1024
# A billing period's rows go to a new file past this many (files stay a size object storage
# and parallel readers handle well).
FILE_ROWS = 8 * 1024 * 1024
COMPRESSION = "zstd"
_TEN_DECIMALS = Decimal("1e-10")


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


def store_root() -> Path:
    """The directory that holds every partition: the setting ``COSTLINE_COLUMNAR_ROOT``, else
    the environment variable of that name, else ``var/columnar`` in the project."""
    configured = getattr(settings, "COSTLINE_COLUMNAR_ROOT", None) or os.environ.get(
        "COSTLINE_COLUMNAR_ROOT"
    )
    return Path(configured) if configured else Path(settings.BASE_DIR) / "var" / "columnar"


def partition_dir(organization_id, integration_id, period: date) -> Path:
    """A billing period's directory, relative to the root."""
    return (
        Path(f"organization={uuid.UUID(str(organization_id))}")
        / f"integration={uuid.UUID(str(integration_id))}"
        / f"billing_period={period.isoformat()}"
    )


# --------------------------------------------------------------------------- batches → Arrow


def _decimals(text: pa.Array) -> pa.Array:
    """Decimal text as decimal(28, 10), rounded half away from zero as PostgreSQL's numeric."""
    try:
        return pc.cast(text, MONEY_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # More than ten decimals (or an exponent Arrow refuses): the slow, exact path.
        values = [
            None if value is None else Decimal(value).quantize(_TEN_DECIMALS, ROUND_HALF_UP)
            for value in text.to_pylist()
        ]
        return pa.array(values, MONEY_TYPE)


def _tag_maps(text: pa.Array) -> pa.Array:
    """Tags JSON text as map arrays. Values that are not strings keep their JSON text (as
    PostgreSQL's ``->>`` gives it); a JSON null stays a null value under its key."""
    encoded = pc.dictionary_encode(text)
    maps = []
    for raw in encoded.dictionary.to_pylist():
        tags = json.loads(raw)
        maps.append(
            [
                (str(key), value if value is None or isinstance(value, str) else json.dumps(value))
                for key, value in tags.items()
            ]
        )
    return pc.take(pa.array(maps, TAGS_TYPE), encoded.indices)


def arrow_rows(batch: FocusBatch) -> pa.Table:
    """A ``FocusBatch`` (shaped for the database's COPY) as the store's Arrow schema."""
    table = batch.table
    rows = table.num_rows
    columns = []
    for name in SCHEMA.names:
        values = table.column(name).combine_chunks()
        if name in ("organization_id", "integration_id"):
            # The batch carries hex ids for COPY; filters compare canonical UUID text.
            distinct = pc.unique(values).to_pylist()
            if len(distinct) == 1:
                values = pa.repeat(str(uuid.UUID(distinct[0])), rows).cast(pa.string())
            else:
                values = pa.array([str(uuid.UUID(v)) for v in values.to_pylist()], pa.string())
        elif name in MONEY_COLUMNS or name in QUANTITY_COLUMNS:
            values = _decimals(values)
        elif name == "tags":
            values = _tag_maps(values)
        columns.append(values.cast(SCHEMA.field(name).type))
    return pa.Table.from_arrays(columns, schema=SCHEMA)


# --------------------------------------------------------------------------- writing


@dataclass
class _PeriodWriter:
    """The files of one billing period being written, and the rows waiting for a row group."""

    root: Path
    directory: Path
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    _pending: list[pa.Table] = field(default_factory=list)
    _pending_rows: int = 0
    _writer: pq.ParquetWriter | None = None
    _file_rows: int = 0

    def add(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        """Write the pending rows as row groups of ``ROW_GROUP_ROWS`` (the last one shorter
        only when ``final``), starting a new file every ``FILE_ROWS`` rows."""
        pending = pa.concat_tables(self._pending) if self._pending else None
        self._pending, self._pending_rows = [], 0
        offset = 0
        while pending is not None and offset < pending.num_rows:
            rows = pending.slice(offset, ROW_GROUP_ROWS)
            if rows.num_rows < ROW_GROUP_ROWS and not final:
                self._pending, self._pending_rows = [rows], rows.num_rows
                return
            if self._writer is None or self._file_rows >= FILE_ROWS:
                self._open_file()
            self._writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
            self._file_rows += rows.num_rows
            offset += rows.num_rows

    def _open_file(self) -> None:
        self._close_file()
        relative = self.directory / f"part-{uuid.uuid4().hex}.parquet"
        (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
        self.files.append(relative)
        self._writer = pq.ParquetWriter(
            self.root / relative, SCHEMA, compression=COMPRESSION, write_statistics=True
        )

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer, self._file_rows = None, 0

    def close(self) -> None:
        self._flush(final=True)
        self._close_file()

    def abort(self) -> None:
        try:
            self._close_file()
        finally:
            _remove(self.root, self.files)


@dataclass
class WriteResult:
    rows_written: int = 0
    rows_replaced: int = 0
    billing_periods: list[date] = field(default_factory=list)
    partitions: list[ColumnarPartition] = field(default_factory=list)


def columnar_write(
    integration: Integration, batches: Iterable[FocusBatch], *, root: Path | None = None
) -> WriteResult:
    """Write an import's batches and make them the integration's rows of every billing period
    they contain (replacing what the store held for those periods).

    If reading or writing fails, the new files are removed and the store is unchanged.
    """
    root = root or store_root()
    writers: dict[date, _PeriodWriter] = {}
    try:
        for batch in batches:
            table = arrow_rows(batch)
            periods = table.column("billing_period_start")
            for period in sorted(batch.billing_periods):
                rows = (
                    table
                    if len(batch.billing_periods) == 1
                    else table.filter(pc.equal(periods, pa.scalar(period, pa.date32())))
                )
                writer = writers.get(period)
                if writer is None:
                    directory = partition_dir(integration.organization_id, integration.pk, period)
                    writer = writers[period] = _PeriodWriter(root, directory)
                writer.add(rows)
        for writer in writers.values():
            writer.close()
        return _switch(integration, writers, root)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise


def _switch(integration: Integration, writers: dict[date, _PeriodWriter], root: Path):
    """Make the new files the active generation, in one transaction; remove the old ones
    after the commit."""
    result = WriteResult(billing_periods=sorted(writers))
    with transaction.atomic():
        # Writes of one integration take turns (the importer holds the same lock).
        Integration.objects.select_for_update().filter(pk=integration.pk).exists()
        replaced = list(
            ColumnarPartition.objects.select_for_update().filter(
                integration=integration, billing_period_start__in=writers, active=True
            )
        )
        latest = dict(
            ColumnarPartition.objects.filter(
                integration=integration, billing_period_start__in=writers
            )
            .values("billing_period_start")
            .annotate(latest=Max("generation"))
            .values_list("billing_period_start", "latest")
        )
        ColumnarPartition.objects.filter(pk__in=[p.pk for p in replaced]).update(active=False)
        for period, writer in sorted(writers.items()):
            result.partitions.append(
                ColumnarPartition.objects.create(
                    organization_id=integration.organization_id,
                    integration=integration,
                    provider=integration.provider,
                    billing_period_start=period,
                    generation=latest.get(period, 0) + 1,
                    files=[path.as_posix() for path in writer.files],
                    row_count=writer.rows,
                    active=True,
                )
            )
            result.rows_written += writer.rows
        result.rows_replaced = sum(p.row_count for p in replaced)
        transaction.on_commit(lambda: _retire([p.pk for p in replaced], root))
    return result


def _retire(partition_ids: list[int], root: Path) -> None:
    """Remove replaced generations: their files, then their manifest rows."""
    retired = ColumnarPartition.objects.filter(pk__in=partition_ids, active=False)
    for partition in retired:
        _remove(root, [Path(name) for name in partition.files])
    retired.delete()


def _remove(root: Path, files: Iterable[Path]) -> None:
    for relative in files:
        try:
            (root / relative).unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove %s", root / relative, exc_info=True)


def focus_to_columnar(
    integration: Integration, sources, *, filenames: list[str] | None = None
) -> WriteResult:
    """Read FOCUS files (as ``costs.services.focus_import`` does) straight into the store."""
    readers = open_integration_files(integration, sources, filenames)
    return columnar_write(integration, (batch for reader in readers for batch in reader.batches()))


# --------------------------------------------------------------------------- reading the manifest


def active_partitions(
    organization_id,
    *,
    provider: str | None = None,
    integration_ids: Iterable | None = None,
    periods: Iterable[date] | None = None,
):
    """The manifest rows readers may read, oldest period first."""
    partitions = ColumnarPartition.objects.filter(organization_id=organization_id, active=True)
    if provider:
        partitions = partitions.filter(provider=provider)
    if integration_ids is not None:
        partitions = partitions.filter(integration_id__in=list(integration_ids))
    if periods is not None:
        partitions = partitions.filter(billing_period_start__in=list(periods))
    return partitions.order_by("billing_period_start", "integration_id")


def active_files(organization_id, *, root: Path | None = None, **filters) -> list[Path]:
    """Absolute paths of the organization's active Parquet files (see ``active_partitions``)."""
    root = root or store_root()
    return [
        root / name
        for partition in active_partitions(organization_id, **filters)
        for name in partition.files
    ]
