"""Compile a filter tree to a ClickHouse condition over the columnar store's cost rows.

The same meaning as ``compiler.to_q`` (docs/filter-language.md), for the engine that reads the
Parquet files (chDB in-process, a ClickHouse server at scale):

- comparisons are exact and case-sensitive; LIKE is ClickHouse's ``LIKE`` (case-sensitive,
  ``_`` one character, ``%`` any run, newlines included), given the pattern re-written with
  only ``%``, ``_`` and backslash escaped, the escapes both dialects read alike;
- ``tags`` is a ``Map(String, Nullable(String))``; a tag test is "the row has the tag and ...",
  so NOT and first-match labelling behave as in plain boolean logic;
- every value is a query parameter (``Params``), never part of the SQL text.
"""

from __future__ import annotations

import uuid

from costs.columnar.sql import Params

from . import catalogue as cat
from .tree import AND, Condition, Group, Node, Not, TagCondition, like_escape, like_tokens

TRUE = "true"


def to_sql(node: Node, params: Params) -> str:
    """A boolean SQL expression selecting the rows ``node`` selects; values go to ``params``."""
    if isinstance(node, Condition):
        return _condition_sql(node, params)
    if isinstance(node, TagCondition):
        return _tag_sql(node, params)
    if isinstance(node, Not):
        return f"NOT ({to_sql(node.child, params)})"
    if not node.children:
        return TRUE
    joiner = " AND " if node.op == AND else " OR "
    return "(" + joiner.join(to_sql(child, params) for child in node.children) + ")"


def has_share(node: Node | None) -> bool:
    """Whether ``node`` takes only a share of the cost it matches (``costs.allocation``)."""
    if isinstance(node, Group):
        return node.share is not None or any(has_share(child) for child in node.children)
    return False


def share_sql(node: Node, params: Params) -> str | None:
    """The share of a matching row's cost that ``node`` takes, as a ``Decimal64(12)``
    expression (None: all of it). In an OR, the first clause that matches the row decides."""
    if not has_share(node):
        return None
    if node.share is not None:
        return f"toDecimal64({params.add(format(node.share, 'f'))}, 12)"
    if node.op == AND:
        factors = [share_sql(child, params) for child in node.children if has_share(child)]
        product = factors[0]
        for factor in factors[1:]:
            product = f"toDecimal64(toDecimal128({product}, 12) * {factor}, 12)"
        return product
    arms = []
    for child in node.children:
        arms.append(f"{to_sql(child, params)}, {share_sql(child, params) or 'toDecimal64(1, 12)'}")
    return f"multiIf({', '.join(arms)}, toDecimal64(1, 12))"


def columns_of(node: Node | None) -> set[str]:
    """The cost-row columns ``to_sql(node)`` reads (a reader picks the daily rollup when it
    holds them all)."""
    if node is None:
        return set()
    if isinstance(node, Condition):
        return {cat.FIELDS[node.field].column}
    if isinstance(node, TagCondition):
        return {"tags"}
    if isinstance(node, Not):
        return columns_of(node.child)
    return set().union(*(columns_of(child) for child in node.children))


def like_pattern(pattern: str) -> str:
    """``pattern`` re-written with only ``%``, ``_`` and ``\\`` escaped (a backslash before any
    other character is that character in the tree's syntax)."""
    parts = []
    for kind, char in like_tokens(pattern):
        parts.append(like_escape(char) if kind == "lit" else kind)
    return "".join(parts)


def _values(field: str, values: tuple[str, ...]) -> list[str]:
    if field != "integration_id":
        return list(values)
    # The store keeps integration ids as canonical UUID text; the database's UUID column
    # accepts the other spellings Python's uuid does (upper case, no dashes).
    canonical = []
    for value in values:
        try:
            canonical.append(str(uuid.UUID(value)))
        except ValueError:
            canonical.append(value)
    return canonical


def _value_test(expression: str, op: str, values: list[str], params: Params) -> str:
    if op in (cat.IN, cat.NOT_IN):
        if len(values) == 1:
            test = f"{expression} = {params.text(values[0])}"
        else:
            test = f"{expression} IN ({', '.join(params.text(value) for value in values)})"
    else:
        test = f"{expression} LIKE {params.text(like_pattern(values[0]))}"
    return f"NOT ({test})" if op in (cat.NOT_IN, cat.NOT_LIKE) else test


def _condition_sql(node: Condition, params: Params) -> str:
    column = cat.FIELDS[node.field].column
    return _value_test(column, node.op, _values(node.field, node.values), params)


def _tag_sql(node: TagCondition, params: Params) -> str:
    if node.key is None:
        return "empty(tags)" if node.op == cat.NOT_EXISTS else "notEmpty(tags)"
    key = params.text(node.key)
    has_tag = f"mapContains(tags, {key})"
    if node.op == cat.EXISTS:
        return has_tag
    if node.op == cat.NOT_EXISTS:
        return f"NOT {has_tag}"
    # A JSON null value is a NULL: the test is then NULL, false in WHERE and in multiIf, as the
    # database's "has the tag AND its text ..." is.
    return f"({has_tag} AND {_value_test(f'tags[{key}]', node.op, list(node.values), params)})"
