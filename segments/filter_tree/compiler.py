"""Compile a filter tree to a Django ``Q`` over ``costs.models.CostRow``.

This is the only place the tree's meaning becomes SQL. The allocation query uses the same
``Q`` objects inside ``Case(When(to_q(filter), then=...))``, so a segment's rows in a filter
preview, in a list and in the allocation pass are the same rows.

Semantics on both SQLite and PostgreSQL:
- comparisons are exact and case-sensitive; LIKE becomes an anchored regular expression that
  both databases read the same way (SQLite's ``LIKE`` would ignore case);
- a tag test is "the row has the tag and ..." and never evaluates to SQL NULL, so that NOT and
  CASE WHEN behave as in plain boolean logic.
"""

from __future__ import annotations

import json
import re
from functools import reduce

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, In, Regex

from . import catalogue as cat
from .tree import AND, Condition, Node, Not, TagCondition, like_tokens


class TagValue(KeyTextTransform):
    """The text of one tag, ``tags ->> key``. Django's own key transform reads a key such as
    "2024" as an array index on SQLite and PostgreSQL; a tag key is always an object key."""

    def as_postgresql(self, compiler, connection):
        lhs, params, _ = self.preprocess_lhs(compiler, connection)
        return f"({lhs} ->> %s)", (*params, self.key_name)

    def as_sqlite(self, compiler, connection):
        lhs, params, _ = self.preprocess_lhs(compiler, connection)
        return f"JSON_EXTRACT({lhs}, %s)", (*params, "$." + json.dumps(self.key_name))


def like_regex(pattern: str) -> str:
    """A LIKE pattern as a regular expression that Python's ``re`` (SQLite's REGEXP in
    Django) and PostgreSQL's ``~`` both read alike: embedded ``(?s)`` so "." matches newlines,
    ``\\A`` and ``\\Z`` anchors, and ``re.escape`` literals (a backslash before a
    non-alphanumeric character is that character in both dialects)."""
    parts = []
    for kind, char in like_tokens(pattern):
        if kind == "lit":
            parts.append(re.escape(char))
        elif kind == "_":
            parts.append(".")
        else:
            parts.append(".*")
    return r"(?s)\A" + "".join(parts) + r"\Z"


def to_q(node: Node) -> Q:
    """The rows of ``CostRow`` that ``node`` selects, as a Q usable in ``filter`` and ``When``."""
    if isinstance(node, Condition):
        return _condition_q(node)
    if isinstance(node, TagCondition):
        return _tag_q(node)
    if isinstance(node, Not):
        return ~to_q(node.child)
    if not node.children:
        # An empty Q() cannot be a When() condition; this one is true for every row.
        return Q(pk__isnull=False)
    operator = Q.__and__ if node.op == AND else Q.__or__
    return reduce(operator, (to_q(child) for child in node.children))


def _condition_q(node: Condition) -> Q:
    column = cat.FIELDS[node.field].column
    if node.op in (cat.IN, cat.NOT_IN):
        if len(node.values) == 1:
            q = Q(**{column: node.values[0]})
        else:
            q = Q(**{f"{column}__in": list(node.values)})
    else:
        q = Q(**{f"{column}__regex": like_regex(node.values[0])})
    return ~q if node.op in (cat.NOT_IN, cat.NOT_LIKE) else q


def _tag_q(node: TagCondition) -> Q:
    if node.key is None:
        untagged = Q(tags={})
        return untagged if node.op == cat.NOT_EXISTS else ~untagged
    has_tag = Q(tags__has_key=node.key)
    if node.op == cat.EXISTS:
        return has_tag
    if node.op == cat.NOT_EXISTS:
        return ~has_tag
    # An expression, not a "tags__key" lookup: a key such as "a__b" is not split into a path.
    value = TagValue(node.key, "tags")
    if node.op in (cat.IN, cat.NOT_IN):
        if len(node.values) == 1:
            matches = Q(Exact(value, node.values[0]))
        else:
            matches = Q(In(value, list(node.values)))
    else:
        matches = Q(Regex(value, like_regex(node.values[0])))
    # "has the tag" first: FALSE AND NULL is FALSE, so the test is never NULL.
    if node.op in (cat.NOT_IN, cat.NOT_LIKE):
        return has_tag & ~matches
    return has_tag & matches
