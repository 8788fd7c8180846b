"""The one way to read the columnar store: ClickHouse SQL over an organization's active files.

``select`` runs a query in which ``ROWS`` stands for the organization's cost rows (its active
Parquet files, read with a fixed structure); values are passed as query parameters. The engine is
chDB, ClickHouse in-process: the same SQL runs unchanged on a ClickHouse server, where ``ROWS``
becomes ``s3Cluster(...)`` over the same layout (docs/columnar.md).

The readers: the allocation engine (``segments.engine``), the cost explorer and
``/api/v1/costs`` (``costs.selectors``), the overview, the filter preview.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from .engine import execute, rows_source  # noqa: F401 (execute: the module's API)
from .rollup import ROLLUP_KEYS, ROLLUP_MONEY, rollup_structure
from .sql import Params
from .store import active_partitions, store_root

ROWS = "__cost_rows__"
ROLLUP = "__cost_rollup__"

# Hooks that rewrite the rows a query reading ``tags`` sees (virtual tags register one from their
# app's ready(): this app sits below them). Called as ``hook(organization_id, source, params,
# rollup=bool)``, a hook returns the new source, or None when a rollup cannot serve it (the
# query then reads the raw rows, shaped as the rollup).
ROWS_TRANSFORMS: list[Callable[..., str | None]] = []
_READS_TAGS = re.compile(r"\btags\b")


def _transformed(organization_id, source: str, params: Params, *, rollup: bool) -> str | None:
    for transform in ROWS_TRANSFORMS:
        source = transform(organization_id, source, params, rollup=rollup)
        if source is None:
            return None
    return source


def _rollup_from_rows(source: str) -> str:
    """Raw rows shaped as the rollup's lines (one line per row)."""
    sums = ", ".join(f"CAST({name} AS Decimal(38, 10)) AS {name}" for name in ROLLUP_MONEY)
    return f"(SELECT {', '.join(ROLLUP_KEYS)}, {sums}, toUInt64(1) AS row_count FROM {source})"


def select(
    organization_id,
    sql: str,
    params: dict | None = None,
    *,
    files: list[Path] | None = None,
    raw_tags: bool = False,
    **filters,
) -> pa.Table:
    """Run ``sql`` with ``params``: in it ``ROWS`` stands for the organization's cost rows and
    ``ROLLUP`` for their daily rollup (``rollup.py``); only what the SQL names is read.

    A query that reads ``tags`` sees them through ``ROWS_TRANSFORMS`` (virtual tags) unless
    ``raw_tags``. ``filters`` narrow the files read (``provider``, ``integration_ids``,
    ``periods``; see ``store.active_partitions``); ``files`` replaces the manifest look-up of
    raw files."""
    root = store_root()
    partitions = None
    # Only a query that reads tags can tell a virtual tag from none (splits keep every sum).
    transform = not raw_tags and bool(ROWS_TRANSFORMS) and bool(_READS_TAGS.search(sql))
    extra = Params(prefix="t")
    if ROWS in sql or ROLLUP in sql:
        if partitions is None and (files is None or ROLLUP in sql):
            partitions = list(active_partitions(organization_id, **filters))
        if files is None:
            files = [root / name for partition in partitions for name in partition.files]
    if ROWS in sql:
        source = rows_source(files)
        if transform:
            source = _transformed(organization_id, source, extra, rollup=False)
        sql = sql.replace(ROWS, source)
    if ROLLUP in sql:
        rollups = [root / name for partition in partitions for name in partition.rollup_files]
        source = rows_source(rollups, rollup_structure())
        if transform:
            source = _transformed(organization_id, source, extra, rollup=True)
            if source is None:
                rows = _transformed(organization_id, rows_source(files), extra, rollup=False)
                source = _rollup_from_rows(rows)
        sql = sql.replace(ROLLUP, source)
    if extra.values:
        params = {**(params or {}), **extra.values}
    return execute(sql, params)


def select_rows(organization_id, sql: str, params: dict | None = None, **options) -> list[dict]:
    return select(organization_id, sql, params, **options).to_pylist()
