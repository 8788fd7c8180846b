"""The filter tree back to VQL: canonical text that parses to the same tree."""

from __future__ import annotations

from .. import catalogue as cat
from ..tree import AND, MATCH_ALL, OR, Condition, Node, Not, TagCondition


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values_vql(field_name: str, op: str, values: tuple[str, ...]) -> str:
    if op in (cat.IN, cat.NOT_IN):
        if len(values) == 1:
            return f"{field_name} {'=' if op == cat.IN else '!='} {quote(values[0])}"
        keyword = "IN" if op == cat.IN else "NOT IN"
        return f"{field_name} {keyword} ({', '.join(quote(v) for v in values)})"
    keyword = "LIKE" if op == cat.LIKE else "NOT LIKE"
    return f"{field_name} {keyword} {quote(values[0])}"


def render_vql(node: Node) -> str:
    """Canonical VQL for a tree (an empty string for the match-everything tree)."""
    if node == MATCH_ALL:
        return ""
    return _render(node, parent=None)


def _render(node: Node, parent: str | None) -> str:
    if isinstance(node, Condition):
        return _values_vql(cat.FIELDS[node.field].vql, node.op, node.values)
    if isinstance(node, TagCondition):
        return _render_tag(node, parent)
    if isinstance(node, Not):
        return f"NOT ({_render(node.child, None)})"
    joiner = " AND " if node.op == AND else " OR "
    parts = [_render(child, node.op) for child in node.children]
    if node.share is not None:
        parts.append(f"{cat.VQL_ALLOCATION} = {format(node.share, 'f')}")
    text = joiner.join(parts)
    return f"({text})" if parent is not None else text


def _render_tag(node: TagCondition, parent: str | None) -> str:
    if node.key is None:
        return f"{cat.VQL_TAG_NAME} {'=' if node.op == cat.NOT_EXISTS else '!='} NULL"
    name = f"{cat.VQL_TAG_NAME} {'!=' if node.op == cat.NOT_EXISTS else '='} {quote(node.key)}"
    if node.op in (cat.EXISTS, cat.NOT_EXISTS):
        return name
    text = f"{name} AND {_values_vql(cat.VQL_TAG_VALUE, node.op, node.values)}"
    return f"({text})" if parent == OR else text
