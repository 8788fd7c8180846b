"""The allocation engine: a segment tree's figures, in one pass over the columnar store.

Every row of the tree gets its leaf label once (first match by priority, as
``segments.allocation.line_case`` labels rows in the row store), the labelled rows are summed
per (leaf, day, charge kind) together with the *state* of an exact distinct count of their
resources, and every level's figures come from that small labelled set: a segment's total adds
its subtree's leaves, its months add their days, and distinct counts merge their states (exact,
never a sum of counts). The cost grows with the rows, not with rows × segments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from costs.columnar.query import ROWS, select
from costs.columnar.schema import column_type
from costs.columnar.split import SHARE_TYPE, line_label, split_rows
from costs.columnar.sql import Params, string_literal
from costs.focus import MONEY_COLUMNS, QUANTITY_COLUMNS

from .allocation import MONEY_FIELDS, ZERO, SegmentNode
from .filter_tree import from_json
from .filter_tree.sql import TRUE, has_share, share_sql, to_sql
from .models import ChargeKind, Line, SegmentMetric

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


def charge_kind_sql() -> str:
    """A row's charge kind (``segments.allocation.CHARGE_KIND``: a correction is a refund
    whatever its category), as ClickHouse SQL."""
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
    return to_sql(from_json(segment.filter_tree), params) if segment.filter_tree else TRUE


def _share(segment, params: Params) -> str | None:
    return share_sql(from_json(segment.filter_tree), params) if segment.filter_tree else None


def _takes_shares(root: SegmentNode) -> bool:
    return any(
        node.segment.filter_tree and has_share(from_json(node.segment.filter_tree))
        for node in root.walk()
    )


SPLIT_AMOUNTS = {name: column_type(name) for name in (*MONEY_COLUMNS, *QUANTITY_COLUMNS)}
LINES_TYPE = f"Array(Tuple(UInt32, {SHARE_TYPE}, {SHARE_TYPE}))"


def leaf_label_sql(node: SegmentNode, params: Params, number: dict[int, int]) -> str:
    """The number (``number[id(node)]``) of the segment of ``node``'s tree that takes a row
    ``node`` matches: nested, so each condition is evaluated once per row that reaches it; the
    first matching sibling wins and what no child takes stays with the parent."""
    if not node.children:
        return str(number[id(node)])
    branches = [
        f"{_condition(child.segment, params)}, {leaf_label_sql(child, params, number)}"
        for child in node.children
    ]
    return f"multiIf({', '.join(branches)}, {number[id(node)]})"


def numbered(root: SegmentNode) -> dict[int, int]:
    """Segments numbered in ``root.walk()`` order (by node identity)."""
    return {id(node): index for index, node in enumerate(root.walk())}


def allocation_sql(root: SegmentNode, params: Params, months: Iterable[date] | None = None) -> str:
    """The labelled allocation query of a tree (``segments.allocation.SegmentNode``).

    Rows come out per (line, granularity, period, charge kind), ``line`` being
    ``2 × segment number + unallocated`` with segments numbered in ``root.walk()`` order."""
    nodes = list(root.walk())
    number = numbered(root)

    def label(node) -> str:
        return leaf_label_sql(node, params, number)

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

    def shares(node) -> str:
        """A row's (label, lower, upper) pieces with partial allocation (``costs.allocation``):
        a segment that takes a share ``f`` of a row leaves the rest with its parent,
        unallocated: its own pieces shrink into [0, f], the parent's is [f, 1]."""
        own = f"CAST([({number[id(node)]}, 0, 1)] AS {LINES_TYPE})"
        if not node.children:
            return own
        branches = []
        for child in node.children:
            inner = shares(child)
            fraction = _share(child.segment, params)
            if fraction is not None:
                rest = f"CAST([({number[id(node)]}, {fraction}, 1)] AS {LINES_TYPE})"
                scaled = (
                    "arrayMap(p -> (p.1, "
                    f"toDecimal64(toDecimal128(p.2, 12) * {fraction}, 12), "
                    f"toDecimal64(toDecimal128(p.3, 12) * {fraction}, 12)), {inner})"
                )
                inner = f"if({fraction} = 1, {inner}, arrayConcat({scaled}, {rest}))"
            branches.append(f"{_condition(child.segment, params)}, {inner}")
        return f"CAST(multiIf({', '.join(branches)}, {own}) AS {LINES_TYPE})"

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
    matching = " AND ".join(f"({condition})" for condition in where)
    if _takes_shares(root):
        # Split rows: each line's label is its segment (the leaf, or a parent keeping the rest).
        source = split_rows(
            f"(SELECT * FROM {ROWS} WHERE {matching})",
            shares(root),
            SPLIT_AMOUNTS,
            added=[f"toUInt32({line_label()}) AS leaf_label"],
        )
        leaf, where_sql = "leaf_label", "true"
    else:
        source, leaf, where_sql = ROWS, label(root), matching
    return f"""
        WITH labelled AS (
            SELECT {leaf} AS leaf, charge_period_start AS day,
                   {charge_kind_sql()} AS kind, {sums},
                   uniqExactIfState(resource_id, {IS_USAGE} AND resource_id != '') AS resources
            FROM {source}
            WHERE {where_sql}
            GROUP BY leaf, day, kind
        )
        SELECT arrayJoin({lines_array}[leaf + 1]) AS line,
               arrayJoin([(day, 'day'), (toStartOfMonth(day), 'month')]) AS period,
               period.1 AS period_start, period.2 AS granularity, kind,
               {rollups}, uniqExactIfMerge(resources) AS resource_count
        FROM labelled
        GROUP BY line, period, kind
    """


def allocation_metrics(
    root: SegmentNode, months: Iterable[date] | None = None, *, files=None
) -> list:
    """Unsaved ``SegmentMetric`` rows of every segment of the tree (both granularities), the
    figures ``segments.allocation.compute_metrics`` computes, in one pass over the files."""
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
