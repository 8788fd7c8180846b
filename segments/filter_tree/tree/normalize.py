"""The canonical form of a filter tree.

``normalize`` puts a tree in canonical form, so that filters that mean the same thing in the
obvious ways (order of conditions or values, duplicates, nesting of the same operator,
``a = 'x' OR a = 'y'`` against ``a IN ('x', 'y')``, a LIKE without wildcards against ``=``)
compare equal and store the same.
"""

from __future__ import annotations

from .. import catalogue as cat
from .like import canonical_like
from .nodes import OR, Condition, Group, Leaf, Node, Not, TagCondition


def normalize(node: Node) -> Node:
    """The canonical form of a valid tree (see the module docstring)."""
    if isinstance(node, Condition):
        return _normalize_leaf(node)
    if isinstance(node, TagCondition):
        return _normalize_leaf(node)
    if isinstance(node, Not):
        return negate(normalize(node.child))
    children: list[Node] = []
    for child in node.children:
        child = normalize(child)
        # A group that takes a share keeps its own conditions (they are what the share is of).
        if isinstance(child, Group) and child.op == node.op and child.share is None:
            children.extend(child.children)
        else:
            children.append(child)
    children = _merge(node.op, children)
    children = sorted(set(children), key=sort_key)
    if len(children) == 1 and node.share is None:
        return children[0]
    return Group(node.op, tuple(children), node.share)


def _normalize_leaf(leaf: Leaf) -> Leaf:
    if leaf.op not in (cat.LIKE, cat.NOT_LIKE):
        return leaf
    op, value = canonical_like(leaf.values[0])
    if op == cat.IN and leaf.op == cat.NOT_LIKE:
        op = cat.NOT_IN
    elif op == cat.LIKE and leaf.op == cat.NOT_LIKE:
        op = cat.NOT_LIKE
    if isinstance(leaf, Condition):
        return Condition(leaf.field, op, (value,))
    return TagCondition(leaf.key, op, (value,))


def negate(node: Node) -> Node:
    """NOT ``node``, pushed into the condition where that is exact.

    A column is never NULL, so NOT (a IN x) is a NOT IN x. A tag value test is not: NOT
    (has tag k with value in x) also holds for rows without tag k, so it stays a ``Not``.
    """
    if isinstance(node, Not):
        return node.child
    if isinstance(node, Condition):
        return Condition(node.field, cat.NEGATION[node.op], node.values)
    if isinstance(node, TagCondition) and node.op in (cat.EXISTS, cat.NOT_EXISTS):
        return TagCondition(node.key, cat.NEGATION[node.op], ())
    return Not(node)


def _merge(op: str, children: list[Node]) -> list[Node]:
    """Join same-field value lists: ``a IN x OR a IN y`` is ``a IN x+y``; under AND,
    ``a NOT IN x AND a NOT IN y`` is ``a NOT IN x+y`` (for tags the same, per key)."""
    mergeable = cat.IN if op == OR else cat.NOT_IN
    merged: dict[tuple, list[str]] = {}
    rest: list[Node] = []
    for child in children:
        if isinstance(child, Condition) and child.op == mergeable:
            merged.setdefault(("c", child.field), []).extend(child.values)
        elif isinstance(child, TagCondition) and child.op == mergeable and child.key is not None:
            merged.setdefault(("t", child.key), []).extend(child.values)
        else:
            rest.append(child)
    for (kind, name), values in merged.items():
        if kind == "c":
            rest.append(Condition(name, mergeable, tuple(values)))
        else:
            rest.append(TagCondition(name, mergeable, tuple(values)))
    return rest


_FIELD_ORDER = {name: index for index, name in enumerate(cat.FIELDS)}
_OP_ORDER = {name: index for index, name in enumerate(cat.TAG_OPS)}


def sort_key(node: Node) -> tuple:
    """Canonical order: provider first, then fields in catalogue order, tags, NOTs, groups."""
    if isinstance(node, Condition):
        return (0, _FIELD_ORDER.get(node.field, 99), node.field, _OP_ORDER[node.op], node.values)
    if isinstance(node, TagCondition):
        return (1, node.key is not None, node.key or "", _OP_ORDER[node.op], node.values)
    if isinstance(node, Not):
        return (2, sort_key(node.child))
    return (3, node.op, len(node.children), tuple(sort_key(c) for c in node.children))
