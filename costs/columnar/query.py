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
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from .engine import execute, rows_source  # noqa: F401 (execute: the module's API)
from .rollup import ROLLUP_KEYS, ROLLUP_MONEY, rollup_structure
from .sql import Params
from .store import active_partitions, store_root
from .tags import reads_whole_tags, rewrite_tag_reads

ROWS = "__cost_rows__"
ROLLUP = "__cost_rollup__"

# Hooks that add tags to the rows a query reading ``tags`` sees (virtual tags register one from
# their app's ready(): this app sits below them). Called as ``hook(organization_id, source,
# params, rollup=bool, whole_tags=bool)``, a hook returns ``(source, columns)``: the rows with
# the extra keys in columns of their own (``{key: column}``, read through ``tags.py``'s
# rewrite), or, with ``whole_tags``, in each row's map (``columns`` empty); or None when a rollup
# cannot serve it (the query then reads the raw rows, shaped as the rollup).
ROWS_TRANSFORMS: list[Callable[..., tuple[str, dict[str, str]] | None]] = []
_READS_TAGS = re.compile(r"\btags\b")


def _transformed(
    organization_id, source: str, params: Params, *, rollup: bool, whole_tags: bool
) -> tuple[str, dict[str, str]] | None:
    columns: dict[str, str] = {}
    for transform in ROWS_TRANSFORMS:
        result = transform(organization_id, source, params, rollup=rollup, whole_tags=whole_tags)
        if result is None:
            return None
        source, more = result
        columns.update(more)
    return source, columns


def _rollup_from_rows(source: str, extra: Iterable[str] = ()) -> str:
    """Raw rows shaped as the rollup's lines (one line per row), with the ``extra`` columns."""
    sums = ", ".join(f"CAST({name} AS Decimal(38, 10)) AS {name}" for name in ROLLUP_MONEY)
    columns = ", ".join([*ROLLUP_KEYS, *extra])
    return f"(SELECT {columns}, {sums}, toUInt64(1) AS row_count FROM {source})"


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
    whole_tags = transform and reads_whole_tags(sql)
    extra = Params(prefix="t")
    columns: dict[str, str] = {}
    sources: dict[str, str] = {}
    if ROWS in sql or ROLLUP in sql:
        if partitions is None and (files is None or ROLLUP in sql):
            partitions = list(active_partitions(organization_id, **filters))
        if files is None:
            files = [root / name for partition in partitions for name in partition.files]
    if ROWS in sql:
        sources[ROWS] = rows_source(files)
        if transform:
            sources[ROWS], added = _transformed(
                organization_id, sources[ROWS], extra, rollup=False, whole_tags=whole_tags
            )
            columns.update(added)
    if ROLLUP in sql:
        rollups = [root / name for partition in partitions for name in partition.rollup_files]
        sources[ROLLUP] = rows_source(rollups, rollup_structure())
        if transform:
            result = _transformed(
                organization_id, sources[ROLLUP], extra, rollup=True, whole_tags=whole_tags
            )
            if result is None:
                rows, added = _transformed(
                    organization_id, rows_source(files), extra, rollup=False, whole_tags=whole_tags
                )
                result = _rollup_from_rows(rows, added.values()), added
            sources[ROLLUP], added = result
            columns.update(added)
    if columns:
        # The query's own reads of the extra keys go to their columns (not its sources' reads).
        sql = rewrite_tag_reads(sql, params or {}, columns)
    for placeholder, source in sources.items():
        sql = sql.replace(placeholder, source)
    if extra.values:
        params = {**(params or {}), **extra.values}
    return execute(sql, params)


def select_rows(organization_id, sql: str, params: dict | None = None, **options) -> list[dict]:
    return select(organization_id, sql, params, **options).to_pylist()
