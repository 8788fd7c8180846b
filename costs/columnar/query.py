"""The one way to read the columnar store: ClickHouse SQL over an organization's active files.

``select`` runs a query in which ``ROWS`` stands for the organization's cost rows (its active
Parquet files, read with a fixed structure); values are passed as query parameters. The engine is
chDB, ClickHouse in-process: the same SQL runs unchanged on a ClickHouse server, where ``ROWS``
becomes ``s3Cluster(...)`` over the same layout (docs/columnar.md).

``allocation_metrics`` is the allocation engine's one-pass form: every row of a segment tree
gets its leaf label once (first match by priority, as ``segments.allocation.line_case``), the
labelled rows are summed per (leaf, day, charge kind) together with the *state* of an exact
distinct count of their resources, and every level's figures come from that small labelled set:
a segment's total adds its subtree's leaves, its months add their days, and distinct counts
merge their states (exact, never a sum of counts).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import chdb
import pyarrow as pa

from costs.focus import DATE_COLUMNS, MONEY_COLUMNS, QUANTITY_COLUMNS

from .sql import Params, escape_parameter, string_literal
from .store import SCHEMA, active_files

ROWS = "__cost_rows__"
# Characters that ClickHouse's file() reads as a glob; the store's own names never hold them.
GLOB_CHARACTERS = "*?{},"


def _structure() -> str:
    columns = []
    for name in SCHEMA.names:
        if name in MONEY_COLUMNS:
            type_name = "Decimal(28, 10)"
        elif name in QUANTITY_COLUMNS:
            type_name = "Nullable(Decimal(28, 10))"
        elif name in DATE_COLUMNS:
            type_name = "Date"
        elif name == "tags":
            type_name = "Map(String, Nullable(String))"
        else:
            type_name = "String"
        columns.append(f"{name} {type_name}")
    return ", ".join(columns)


STRUCTURE = _structure()


def rows_source(files: list[Path]) -> str:
    """The table expression of the given Parquet files (an empty table when there are none).

    Paths come from the manifest (made by the store, never by a user) and are quoted."""
    if not files:
        return f"null({string_literal(STRUCTURE)})"
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
    return f"file({string_literal(pattern)}, 'Parquet', {string_literal(STRUCTURE)})"


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


def select(
    organization_id,
    sql: str,
    params: dict | None = None,
    *,
    files: list[Path] | None = None,
    **filters,
) -> pa.Table:
    """Run ``sql`` (``ROWS`` standing for the organization's cost rows) with ``params``.

    ``filters`` narrow the files read (``provider``, ``integration_ids``, ``periods``; see
    ``store.active_partitions``); ``files`` replaces the manifest look-up."""
    if files is None:
        files = active_files(organization_id, **filters)
    return execute(sql.replace(ROWS, rows_source(files)), params)


def select_rows(organization_id, sql: str, params: dict | None = None, **options) -> list[dict]:
    return select(organization_id, sql, params, **options).to_pylist()


# --------------------------------------------------------------------------- allocation

IS_USAGE = "(charge_category = 'Usage' AND charge_class != 'Correction')"
# Each figure as the engine sums it (segments.allocation.AGGREGATES).
FIGURES = {
    "billed_cost": "sum(billed_cost)",
    "effective_cost": "sum(effective_cost)",
    "list_cost": "sum(list_cost)",
    "on_demand_cost": f"sumIf(list_cost, {IS_USAGE})",
    "committed_cost": "sumIf(effective_cost, commitment_discount_id != '')",
    "committed_list_cost": f"sumIf(list_cost, {IS_USAGE} AND pricing_category = 'Committed')",
    "eligible_list_cost": (
        f"sumIf(list_cost, {IS_USAGE} AND pricing_category IN ('Standard', 'Committed'))"
    ),
    "usage_quantity": f"sumIf(consumed_quantity, {IS_USAGE})",
}


def _charge_kind_sql() -> str:
    from segments.models import ChargeKind

    branches = [
        ("charge_class = 'Correction'", ChargeKind.REFUND),
        ("charge_category = 'Credit'", ChargeKind.CREDIT),
        ("charge_category = 'Tax'", ChargeKind.TAX),
        ("charge_category = 'Purchase'", ChargeKind.PURCHASE),
        ("charge_category = 'Adjustment'", ChargeKind.DISCOUNT),
    ]
    parts = [f"{test}, {string_literal(str(kind))}" for test, kind in branches]
    return f"multiIf({', '.join(parts)}, {string_literal(str(ChargeKind.USAGE))})"


def _condition(segment, params: Params) -> str:
    from segments.filter_tree import from_json
    from segments.filter_tree.sql import TRUE, to_sql

    return to_sql(from_json(segment.filter_tree), params) if segment.filter_tree else TRUE


def allocation_sql(root, params: Params, months: Iterable[date] | None = None) -> str:
    """The labelled allocation query of a tree (``segments.allocation.SegmentNode``).

    Rows come out per (line, granularity, period, charge kind), ``line`` being
    ``2 × segment number + unallocated`` with segments numbered in ``root.walk()`` order."""
    nodes = list(root.walk())
    number = {id(node): index for index, node in enumerate(nodes)}

    def label(node) -> str:
        # Nested, so each condition is evaluated once per row that reaches it; the first
        # matching sibling wins and what no child takes stays with the parent.
        if not node.children:
            return str(number[id(node)])
        branches = [
            f"{_condition(child.segment, params)}, {label(child)}" for child in node.children
        ]
        return f"multiIf({', '.join(branches)}, {number[id(node)]})"

    # For each leaf label: the lines its rows count in (its own and every ancestor's total,
    # and its unallocated line when it has children).
    lines: dict[int, list[int]] = {}

    def chain(node, ancestors: list[int]) -> None:
        own = number[id(node)]
        path = [*ancestors, own]
        lines[own] = [2 * segment for segment in path] + ([2 * own + 1] if node.children else [])
        for child in node.children:
            chain(child, path)

    chain(root, [])
    lines_array = "[" + ", ".join(str(lines[index]) for index in range(len(nodes))) + "]"

    where = [_condition(root.segment, params)]
    if root.segment.provider:
        where.append(f"provider = {params.text(root.segment.provider)}")
    if months:
        firsts = ", ".join(params.day(month.replace(day=1)) for month in months)
        where.append(f"toStartOfMonth(charge_period_start) IN ({firsts})")
    # Prefixed: ClickHouse lets a later expression of the SELECT read an alias, so an alias
    # named as a column would shadow the column.
    sums = ", ".join(f"{sql} AS m_{name}" for name, sql in FIGURES.items())
    rollups = ", ".join(f"sum(m_{name}) AS {name}" for name in FIGURES)
    return f"""
        WITH labelled AS (
            SELECT {label(root)} AS leaf, charge_period_start AS day,
                   {_charge_kind_sql()} AS kind, {sums},
                   uniqExactIfState(resource_id, {IS_USAGE} AND resource_id != '') AS resources
            FROM {ROWS}
            WHERE {" AND ".join(f"({condition})" for condition in where)}
            GROUP BY leaf, day, kind
        )
        SELECT arrayJoin({lines_array}[leaf + 1]) AS line,
               arrayJoin([(day, 'day'), (toStartOfMonth(day), 'month')]) AS period,
               period.1 AS period_start, period.2 AS granularity, kind,
               {rollups}, uniqExactIfMerge(resources) AS resource_count
        FROM labelled
        GROUP BY line, period, kind
    """


def allocation_metrics(root, months: Iterable[date] | None = None, *, files=None) -> list:
    """Unsaved ``SegmentMetric`` rows of every segment of the tree (both granularities), the
    figures ``segments.allocation.compute_metrics`` computes, in one pass over the files."""
    from segments.allocation import MONEY_FIELDS, ZERO
    from segments.models import Line, SegmentMetric

    params = Params()
    months = list(months) if months else None
    sql = allocation_sql(root, params, months)
    segment = root.segment
    filters = {"provider": segment.provider} if segment.provider else {}
    result = select(segment.organization_id, sql, params.values, files=files, **filters)
    nodes = list(root.walk())
    metrics = []
    for row in result.to_pylist():
        figures = {name: row[name] or ZERO for name in MONEY_FIELDS}
        if not (any(figures.values()) or row["resource_count"]):
            continue
        node = nodes[row["line"] // 2]
        metrics.append(
            SegmentMetric(
                segment=node.segment,
                line=Line.UNALLOCATED if row["line"] % 2 else Line.TOTAL,
                granularity=row["granularity"],
                period_start=row["period_start"],
                charge_kind=row["kind"],
                resource_count=row["resource_count"],
                **figures,
            )
        )
    return metrics
