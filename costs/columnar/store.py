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
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from costs.focus import MONEY_COLUMNS, QUANTITY_COLUMNS, FocusBatch
from costs.models import Integration

from .models import ColumnarPartition
from .rollup import write_rollup
from .schema import MONEY_TYPE, SCHEMA, TAGS_TYPE

logger = logging.getLogger(__name__)

# Rows buffered per billing period before they become one Parquet row group.
ROW_GROUP_ROWS = 128 * 1024
# A billing period's rows go to a new file past this many (files stay a size object storage
# and parallel readers handle well).
FILE_ROWS = 8 * 1024 * 1024
COMPRESSION = "zstd"
_TEN_DECIMALS = Decimal("1e-10")


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


def table_from_rows(rows: Iterable[dict]) -> pa.Table:
    """Rows as dicts of ``CostRow`` values (ids as UUIDs or text, money as Decimal, tags as a
    dict) in the store's schema: what moving the legacy row store (``legacy.py``) writes."""
    columns: dict[str, list] = {name: [] for name in SCHEMA.names}
    for row in rows:
        for name in SCHEMA.names:
            value = row.get(name)
            if name in ("organization_id", "integration_id"):
                value = str(uuid.UUID(str(value)))
            elif name in MONEY_COLUMNS:
                value = Decimal(value or 0).quantize(_TEN_DECIMALS, ROUND_HALF_UP)
            elif name in QUANTITY_COLUMNS:
                value = None if value is None else Decimal(value).quantize(_TEN_DECIMALS)
            elif name == "tags":
                value = [
                    (str(key), item if item is None or isinstance(item, str) else json.dumps(item))
                    for key, item in (value or {}).items()
                ]
            elif name not in ("charge_period_start", "billing_period_start"):
                value = "" if value is None else str(value)
            columns[name].append(value)
    return pa.Table.from_pydict(columns, schema=SCHEMA)


# --------------------------------------------------------------------------- writing


@dataclass
class _PeriodWriter:
    """The files of one billing period being written, and the rows waiting for a row group."""

    root: Path
    directory: Path
    files: list[Path] = field(default_factory=list)
    rollup_files: list[Path] = field(default_factory=list)
    months: set[date] = field(default_factory=set)
    currencies: set[str] = field(default_factory=set)
    rows: int = 0
    _pending: list[pa.Table] = field(default_factory=list)
    _pending_rows: int = 0
    _writer: pq.ParquetWriter | None = None
    _file_rows: int = 0

    def add(self, table: pa.Table) -> None:
        days = table.column("charge_period_start")
        for day in pc.unique(pc.floor_temporal(days, unit="month")).to_pylist():
            self.months.add(day)
        self.currencies.update(pc.unique(table.column("billing_currency")).to_pylist())
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

    def write_rollup(self) -> None:
        """The daily rollup of the period's rows (``rollup.rollup_sql``), next to them."""
        if not self.files:
            return
        relative = self.directory / f"rollup-{uuid.uuid4().hex}.parquet"
        self.rollup_files.append(relative)
        write_rollup(
            [self.root / name for name in self.files], self.rows, self.root / relative, COMPRESSION
        )

    def abort(self) -> None:
        try:
            self._close_file()
        finally:
            remove_files(self.root, [*self.files, *self.rollup_files])


@dataclass
class WriteResult:
    rows_written: int = 0
    rows_replaced: int = 0
    billing_periods: list[date] = field(default_factory=list)
    # Months the written rows fall in, and those of the rows they replaced.
    months: list[date] = field(default_factory=list)
    replaced_months: list[date] = field(default_factory=list)
    partitions: list[ColumnarPartition] = field(default_factory=list)


def write_tables(
    integration: Integration,
    tables: Iterable[pa.Table],
    *,
    root: Path | None = None,
    on_switch=None,
) -> WriteResult:
    """Write an import's tables (in the store's ``SCHEMA``: ``arrow_rows`` of each batch) and make
    them the integration's rows of every billing period they contain (replacing what the store
    held for those periods).

    ``on_switch(result)`` runs inside the transaction that switches the manifest (the importer
    rebuilds the periods' dimension values there). If reading, writing or ``on_switch`` fails,
    the new files are removed and the store is unchanged.
    """
    root = root or store_root()
    writers: dict[date, _PeriodWriter] = {}
    try:
        for table in tables:
            periods = table.column("billing_period_start")
            distinct = pc.unique(periods).to_pylist()
            for period in sorted(distinct):
                rows = (
                    table
                    if len(distinct) == 1
                    else table.filter(pc.equal(periods, pa.scalar(period, pa.date32())))
                )
                writer = writers.get(period)
                if writer is None:
                    directory = partition_dir(integration.organization_id, integration.pk, period)
                    writer = writers[period] = _PeriodWriter(root, directory)
                writer.add(rows)
        for writer in writers.values():
            writer.close()
            writer.write_rollup()
        return _switch(integration, writers, root, on_switch)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise


def _switch(integration: Integration, writers: dict[date, _PeriodWriter], root: Path, on_switch):
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
        ColumnarPartition.objects.filter(pk__in=[p.pk for p in replaced]).update(
            active=False, replaced_at=timezone.now()
        )
        months: set[date] = set()
        for period, writer in sorted(writers.items()):
            result.partitions.append(
                ColumnarPartition.objects.create(
                    organization_id=integration.organization_id,
                    integration=integration,
                    provider=integration.provider,
                    billing_period_start=period,
                    generation=latest.get(period, 0) + 1,
                    files=[path.as_posix() for path in writer.files],
                    rollup_files=[path.as_posix() for path in writer.rollup_files],
                    months=[month.isoformat() for month in sorted(writer.months)],
                    currencies=sorted(code for code in writer.currencies if code),
                    row_count=writer.rows,
                    active=True,
                )
            )
            result.rows_written += writer.rows
            months |= writer.months
        result.months = sorted(months)
        result.rows_replaced = sum(p.row_count for p in replaced)
        result.replaced_months = sorted(
            {date.fromisoformat(month) for p in replaced for month in p.months}
        )
        if on_switch is not None:
            on_switch(result)
        if not grace_seconds():
            transaction.on_commit(lambda: _retire([p.pk for p in replaced]))
    return result


def grace_seconds() -> int:
    """How long replaced files stay readable (setting ``COSTLINE_COLUMNAR_GRACE_SECONDS``)."""
    return int(getattr(settings, "COSTLINE_COLUMNAR_GRACE_SECONDS", 600))


def _retire(partition_ids: list[int]) -> None:
    """Remove replaced generations (their files go with their rows: ``receivers``)."""
    ColumnarPartition.objects.filter(pk__in=partition_ids, active=False).delete()


# Files no manifest row names (a writer that died before its switch) are removed after a day.
ORPHAN_AGE_SECONDS = 24 * 3600


@dataclass
class SweepResult:
    partitions_retired: int = 0
    orphans_removed: int = 0


def store_sweep(*, root: Path | None = None, now=None) -> SweepResult:
    """Store hygiene, run by beat: remove generations replaced longer than the grace period
    ago, and files under the root that no manifest row names and that are older than a day
    (left by an import whose process died before it switched the manifest)."""
    root = root or store_root()
    now = now or timezone.now()
    result = SweepResult()
    expired = ColumnarPartition.objects.filter(
        active=False, replaced_at__lt=now - timedelta(seconds=grace_seconds())
    )
    ids = list(expired.values_list("pk", flat=True))
    if ids:
        _retire(ids)
        result.partitions_retired = len(ids)
    if not root.is_dir():
        return result
    named = set()
    for files, rollups in ColumnarPartition.objects.values_list("files", "rollup_files"):
        named.update(files)
        named.update(rollups)
    oldest = now.timestamp() - ORPHAN_AGE_SECONDS
    for path in root.rglob("*.parquet"):
        relative = path.relative_to(root).as_posix()
        if relative not in named and path.stat().st_mtime < oldest:
            remove_files(root, [Path(relative)])
            result.orphans_removed += 1
    return result


def remove_files(root: Path, files: Iterable[Path]) -> None:
    for relative in files:
        try:
            (root / relative).unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove %s", root / relative, exc_info=True)


# --------------------------------------------------------------------------- reading the manifest


def active_partitions(
    organization_id,
    *,
    provider: str | None = None,
    integration_ids: Iterable | None = None,
    periods: Iterable[date] | None = None,
    months: Iterable[date] | None = None,
) -> list[ColumnarPartition]:
    """The manifest rows readers may read, oldest period first; ``months`` keeps the
    partitions holding rows of any of those months (first days)."""
    partitions = ColumnarPartition.objects.filter(organization_id=organization_id, active=True)
    if provider:
        partitions = partitions.filter(provider=provider)
    if integration_ids is not None:
        partitions = partitions.filter(integration_id__in=list(integration_ids))
    if periods is not None:
        partitions = partitions.filter(billing_period_start__in=list(periods))
    partitions = list(partitions.order_by("billing_period_start", "integration_id"))
    if months is not None:
        wanted = {month.isoformat() for month in months}
        partitions = [p for p in partitions if wanted.intersection(p.months)]
    return partitions


def active_files(organization_id, *, root: Path | None = None, **filters) -> list[Path]:
    """Absolute paths of the organization's active Parquet files (see ``active_partitions``)."""
    root = root or store_root()
    return [
        root / name
        for partition in active_partitions(organization_id, **filters)
        for name in partition.files
    ]
