"""The money a segment change moves: which segment's cost goes to which, over the last full
month, before the change is saved (the edit page's preview) and recorded with it (history).

Rows are labelled twice in one pass over the store, by the tree as it is and as it would be
(``allocation.load_tree(top, changed)``), each with the engine's own first-match labelling
(``engine.leaf_label_sql``); the cost of every (before, after) pair that differs is summed. A
row no child takes stays with its parent (shown as "<parent> (unallocated)"); a row outside the
tree is "(outside)". Whole rows are compared: a ``costs.allocation`` share moves with its row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from costs.columnar.query import ROWS, select_rows
from costs.columnar.sql import Params, string_literal
from costs.selectors import last_full_month

from .allocation import SegmentNode, load_tree
from .engine import _condition, leaf_label_sql, numbered
from .models import Segment
from .selectors import top_level

OUTSIDE = "(outside)"
COST_COLUMN = "billed_cost"


def _label_sql(root: SegmentNode | None, params: Params) -> tuple[str, dict[str, str]]:
    """A row's segment in ``root``'s tree, as a segment id (text), and the ids' names."""
    if root is None:
        return string_literal(OUTSIDE), {}
    number = numbered(root)
    nodes = list(root.walk())
    ids = "[" + ", ".join(string_literal(str(node.segment.pk)) for node in nodes) + "]"
    leaf = leaf_label_sql(root, params, number)
    names = {
        str(node.segment.pk): node.segment.name + (" (unallocated)" if node.children else "")
        for node in nodes
    }
    inside = _condition(root.segment, params)
    if root.segment.provider:
        inside = f"({inside}) AND provider = {params.text(root.segment.provider)}"
    return f"if({inside}, {ids}[{leaf} + 1], {string_literal(OUTSIDE)})", names


def money_moved(
    organization_id,
    before: SegmentNode | None,
    after: SegmentNode | None,
    *,
    month: tuple[date, date] | None = None,
) -> list[dict]:
    """[{"from", "to", "amount", "currency", "month"}] for the cost that changes segment when
    tree ``before`` becomes tree ``after`` (either None: no tree)."""
    start, end = month or last_full_month()
    params = Params(prefix="v")
    old, old_names = _label_sql(before, params)
    new, new_names = _label_sql(after, params)
    names = {**old_names, **new_names, OUTSIDE: OUTSIDE}
    rows = select_rows(
        organization_id,
        f"SELECT {old} AS source, {new} AS target, billing_currency AS currency, "
        f"sum({COST_COLUMN}) AS amount FROM {ROWS} "
        f"WHERE charge_period_start BETWEEN {params.day(start)} AND {params.day(end)} "
        "GROUP BY source, target, currency HAVING source != target AND amount != 0 "
        "ORDER BY abs(amount) DESC",
        params.values,
    )
    return [
        {
            "from": names.get(row["source"], row["source"]),
            "to": names.get(row["target"], row["target"]),
            "amount": format(Decimal(row["amount"]).quantize(Decimal("0.01")), "f"),
            "currency": row["currency"],
            "month": start.isoformat()[:7],
        }
        for row in rows
    ]


def change_moves(saved: Segment | None, changed: Segment) -> list[dict]:
    """What saving ``changed`` (an unsaved version of ``saved``, or a new segment) would move,
    in the trees it leaves and joins."""
    new_top = changed if changed.parent_id is None else top_level(changed.parent)
    tops = [top_level(saved)] if saved is not None else []
    if all(top.pk != new_top.pk for top in tops):
        tops.append(new_top)
    moved = []
    for top in tops:
        # A tree the segment starts (new top-level segment) had no rows before.
        before = None if (saved is None and top.pk == changed.pk) else load_tree(top)
        after = load_tree(changed if top.pk == changed.pk else top, changed)
        moved.extend(money_moved(changed.organization_id, before, after))
    return moved
