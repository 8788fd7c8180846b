"""The stored form of a filter tree: canonical JSON with a version."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..errors import INVALID, TOO_DEEP, FilterError
from .nodes import AND, MAX_DEPTH, OR, Condition, Group, Node, Not, TagCondition
from .validation import validate

JSON_VERSION = 1


def to_json(node: Node) -> dict:
    """The stored form of a tree: plain JSON with a stable key order and a version."""
    return {"version": JSON_VERSION, **_node_json(node)}


def _node_json(node: Node) -> dict:
    if isinstance(node, Condition):
        return {"type": "condition", "field": node.field, "op": node.op, "values": [*node.values]}
    if isinstance(node, TagCondition):
        return {"type": "tag", "key": node.key, "op": node.op, "values": [*node.values]}
    if isinstance(node, Not):
        return {"type": "not", "child": _node_json(node.child)}
    data = {"type": node.op, "children": [_node_json(child) for child in node.children]}
    if node.share is not None:
        data["share"] = format(node.share, "f")
    return data


def from_json(data) -> Node:
    """The tree stored by ``to_json``, validated and in canonical form."""
    if not isinstance(data, dict):
        raise FilterError("A stored filter must be a JSON object.", code=INVALID)
    data = dict(data)
    version = data.pop("version", JSON_VERSION)
    if version != JSON_VERSION:
        raise FilterError(f"Unknown filter format version {version!r}.", code=INVALID)
    return validate(_node_from_json(data, depth=1))


def _node_from_json(data, depth: int) -> Node:
    if depth > MAX_DEPTH + 1:
        raise FilterError(f"The filter nests more than {MAX_DEPTH} levels deep.", code=TOO_DEEP)
    if not isinstance(data, dict):
        raise FilterError(f"A filter node must be a JSON object, not {data!r}.", code=INVALID)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FilterError(f"Unknown filter node type {kind!r}.", code=INVALID)
    expected_keys = {
        "condition": {"type", "field", "op", "values"},
        "tag": {"type", "key", "op", "values"},
        "not": {"type", "child"},
        AND: {"type", "children"},
        OR: {"type", "children"},
    }.get(kind)
    if expected_keys is None:
        raise FilterError(f"Unknown filter node type {kind!r}.", code=INVALID)
    data = dict(data)
    share = data.pop("share", None) if kind == AND else None
    if set(data) != expected_keys:
        raise FilterError(
            f"A {kind} node has the keys {', '.join(sorted(expected_keys))}.", code=INVALID
        )
    if kind == "not":
        return Not(_node_from_json(data["child"], depth + 1))
    if kind in (AND, OR):
        children = data["children"]
        if not isinstance(children, list):
            raise FilterError("A group's children must be a list.", code=INVALID)
        children = tuple(_node_from_json(child, depth + 1) for child in children)
        if share is None:
            return Group(kind, children)
        try:
            return Group(kind, children, Decimal(str(share)))
        except InvalidOperation as error:
            raise FilterError(
                f"A group's share must be a number, not {share!r}.", code=INVALID
            ) from error
    values = data["values"]
    if not isinstance(values, list):
        raise FilterError("A condition's values must be a list.", code=INVALID)
    if not isinstance(data["op"], str):
        raise FilterError("A condition's op must be a string.", code=INVALID)
    if kind == "condition":
        if not isinstance(data["field"], str):
            raise FilterError("A condition's field must be a string.", code=INVALID)
        return Condition(data["field"], data["op"], tuple(values))
    return TagCondition(data["key"], data["op"], tuple(values))
