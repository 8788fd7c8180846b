"""chDB, ClickHouse in-process: one connection per process, and the table expression of a
set of the store's Parquet files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import chdb
import pyarrow as pa

from .schema import STRUCTURE
from .sql import escape_parameter, string_literal

# Characters that ClickHouse's file() reads as a glob; the store's own names never hold them.
GLOB_CHARACTERS = "*?{},"


def rows_source(files: list[Path], structure: str = STRUCTURE) -> str:
    """The table expression of the given Parquet files (an empty table when there are none).

    Paths come from the manifest (made by the store, never by a user) and are quoted."""
    if not files:
        return f"null({string_literal(structure)})"
    paths = [str(Path(path).resolve()) for path in files]
    unsafe = [path for path in paths if any(char in GLOB_CHARACTERS for char in path)]
    if unsafe:
        raise ValueError(f"a store path must not hold any of {GLOB_CHARACTERS!r}: {unsafe[0]}")
    # A glob that matches nothing reads as no rows: a missing file must be an error instead.
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(f"an active file of the columnar store is missing: {missing[0]}")
    # One glob over all the files, so ClickHouse reads them in parallel: "{a,b}" alternatives
    # may hold slashes, and the store's names hold no comma or brace.
    pattern = paths[0] if len(paths) == 1 else "/{" + ",".join(p.lstrip("/") for p in paths) + "}"
    return f"file({string_literal(pattern)}, 'Parquet', {string_literal(structure)})"


_connection = None
_connection_pid = None
_lock = threading.Lock()


def _engine():
    """This process's chDB connection. Opening one per query costs ~50× a small query, so it
    stays open; a forked worker opens its own."""
    global _connection, _connection_pid
    if _connection is None or _connection_pid != os.getpid():
        _connection, _connection_pid = chdb.connect(":memory:"), os.getpid()
    return _connection


def execute(sql: str, params: dict | None = None) -> pa.Table:
    """Run ClickHouse SQL in chDB with query parameters; the result as an Arrow table."""
    values = {name: escape_parameter(value) for name, value in (params or {}).items()}
    with _lock:
        return _engine().query(sql, "ArrowTable", params=values)
