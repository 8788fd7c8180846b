"""The one way to read the columnar store: ClickHouse SQL over an organization's active files.

``select`` runs a query in which ``ROWS`` stands for the organization's cost rows (its active
Parquet files, read with a fixed structure); values are passed as query parameters. The engine is
chDB, ClickHouse in-process: the same SQL runs unchanged on a ClickHouse server, where ``ROWS``
becomes ``s3Cluster(...)`` over the same layout (docs/columnar.md).

The readers: the allocation engine (``segments.engine``), the cost explorer and
``/api/v1/costs`` (``costs.selectors``), the overview, the filter preview.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .engine import execute, rows_source  # noqa: F401 (execute: the module's API)
from .rollup import rollup_structure
from .store import active_partitions, store_root

ROWS = "__cost_rows__"
ROLLUP = "__cost_rollup__"


def select(
    organization_id,
    sql: str,
    params: dict | None = None,
    *,
    files: list[Path] | None = None,
    **filters,
) -> pa.Table:
    """Run ``sql`` with ``params``: in it ``ROWS`` stands for the organization's cost rows and
    ``ROLLUP`` for their daily rollup (``rollup.py``); only what the SQL names is read.

    ``filters`` narrow the files read (``provider``, ``integration_ids``, ``periods``; see
    ``store.active_partitions``); ``files`` replaces the manifest look-up of raw files."""
    root = store_root()
    partitions = None
    if ROWS in sql:
        if files is None:
            partitions = list(active_partitions(organization_id, **filters))
            files = [root / name for partition in partitions for name in partition.files]
        sql = sql.replace(ROWS, rows_source(files))
    if ROLLUP in sql:
        if partitions is None:
            partitions = list(active_partitions(organization_id, **filters))
        rollups = [root / name for partition in partitions for name in partition.rollup_files]
        sql = sql.replace(ROLLUP, rows_source(rollups, rollup_structure()))
    return execute(sql, params)


def select_rows(organization_id, sql: str, params: dict | None = None, **options) -> list[dict]:
    return select(organization_id, sql, params, **options).to_pylist()
