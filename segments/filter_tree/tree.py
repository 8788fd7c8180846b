"""The filter tree: node types, canonical form, validation and provider scope.

A tree is made of ``Condition`` (a cost-row column compared with values), ``TagCondition`` (a
tag), ``Group`` (AND / OR of children) and ``Not``. Nodes are frozen dataclasses: immutable,
hashable and comparable. ``normalize`` puts a tree in canonical form, so that filters that mean
the same thing in the obvious ways (order of conditions or values, duplicates, nesting of the
same operator, ``a = 'x' OR a = 'y'`` against ``a IN ('x', 'y')``, a LIKE without wildcards
against ``=``) compare equal and store the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import catalogue as cat
from .errors import (
    EMPTY_GROUP,
    EMPTY_LIST,
    INVALID,
    INVALID_VALUE,
    OPERATOR_NOT_ALLOWED,
    PROVIDER_MISMATCH,
    TOO_DEEP,
    UNKNOWN_FIELD,
    UNKNOWN_OPERATOR,
    UNKNOWN_PROVIDER,
    FilterError,
)

MAX_DEPTH = 32  # nesting levels of groups and NOT; deeper filters are refused, not recursed into
AND = "and"
OR = "or"


@dataclass(frozen=True)
class Condition:
    """``field`` (a catalogue name) compared with ``values`` by ``op`` (in, not_in, like,
    not_like). ``in`` with one value is equality; a ``like`` has exactly one pattern."""

    field: str
    op: str
    values: tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "values", _canonical_values(self.op, self.values))


@dataclass(frozen=True)
class TagCondition:
    """A tag test. With a ``key``: ``exists`` / ``not_exists`` test that the row has the tag;
    the value operators test that the row has the tag *and* its value matches (``not_in``:
    has the tag with another value). With ``key`` None: ``exists`` is "has any tag",
    ``not_exists`` is "untagged" (VQL ``tags.name = NULL``)."""

    key: str | None
    op: str
    values: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "values", _canonical_values(self.op, self.values))


@dataclass(frozen=True)
class Group:
    """AND / OR of ``children``. An empty AND is "every row" and only valid as a whole tree."""

    op: str
    children: tuple[Node, ...] = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "children", tuple(self.children))


@dataclass(frozen=True)
class Not:
    child: Node


Node = Condition | TagCondition | Group | Not
Leaf = Condition | TagCondition

MATCH_ALL = Group(AND, ())


def _canonical_values(op: str, values) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    if op in (cat.IN, cat.NOT_IN):
        try:
            return tuple(sorted(set(values)))
        except TypeError:  # not all strings: left for validation to refuse
            return values
    return values


# --- LIKE patterns -------------------------------------------------------------------------
# "%" is any run of characters, "_" one character, and a backslash makes the next character
# literal (as PostgreSQL's default LIKE escape), so that any substring can be written.

ANY_RUN = "%"
ANY_ONE = "_"
ESCAPE = "\\"


def like_tokens(pattern: str) -> list[tuple[str, str]]:
    """A pattern as ``("lit", char)``, ``("%", "")`` and ``("_", "")`` tokens."""
    tokens = []
    escaped = False
    for char in pattern:
        if escaped:
            tokens.append(("lit", char))
            escaped = False
        elif char == ESCAPE:
            escaped = True
        elif char in (ANY_RUN, ANY_ONE):
            tokens.append((char, ""))
        else:
            tokens.append(("lit", char))
    if escaped:
        raise FilterError(
            f"The LIKE pattern {pattern!r} ends with an escape character (\\); "
            "write \\\\ for a literal backslash.",
            code=INVALID_VALUE,
        )
    return tokens


def like_escape(text: str) -> str:
    """``text`` as a LIKE pattern that matches exactly it."""
    return "".join(ESCAPE + c if c in (ANY_RUN, ANY_ONE, ESCAPE) else c for c in text)


def like_pattern_for_substring(text: str) -> str:
    return f"%{like_escape(text)}%"


def canonical_like(pattern: str) -> tuple[str, str]:
    """``("in", literal)`` when the pattern has no wildcard, else ``("like", canonical)``.

    Canonical: runs of wildcards as the ``_``s then one ``%``, and only ``%``, ``_`` and ``\\``
    escaped.
    """
    tokens = like_tokens(pattern)
    if all(kind == "lit" for kind, _ in tokens):
        return cat.IN, "".join(char for _, char in tokens)
    out: list[str] = []
    index = 0
    while index < len(tokens):
        kind, char = tokens[index]
        if kind == "lit":
            out.append(like_escape(char))
            index += 1
            continue
        ones, run = 0, False
        while index < len(tokens) and tokens[index][0] != "lit":
            ones += tokens[index][0] == ANY_ONE
            run = run or tokens[index][0] == ANY_RUN
            index += 1
        out.append(ANY_ONE * ones + (ANY_RUN if run else ""))
    return cat.LIKE, "".join(out)


def substring_of_like(pattern: str) -> str | None:
    """The literal ``x`` when ``pattern`` is ``%x%`` (a "contains"), else None."""
    tokens = like_tokens(pattern)
    if len(tokens) < 2 or tokens[0][0] != ANY_RUN or tokens[-1][0] != ANY_RUN:
        return None
    middle = tokens[1:-1]
    if not all(kind == "lit" for kind, _ in middle):
        return None
    return "".join(char for _, char in middle)


# --- canonical form ------------------------------------------------------------------------


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
        if isinstance(child, Group) and child.op == node.op:
            children.extend(child.children)
        else:
            children.append(child)
    children = _merge(node.op, children)
    children = sorted(set(children), key=sort_key)
    if len(children) == 1:
        return children[0]
    return Group(node.op, tuple(children))


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


# --- validation ----------------------------------------------------------------------------


def default_namer(leaf: Leaf) -> str:
    if isinstance(leaf, Condition):
        return leaf.field
    return cat.TAG_PREFIX + leaf.key if leaf.key is not None else cat.TAGS_FIELD


@dataclass
class Context:
    """How errors name things: ``namer`` gives a leaf's field in the caller's syntax and
    ``locate`` a ``(position, prefix)`` for a node (VQL offsets, or a structured path)."""

    namer: Callable[[Leaf], str] = default_namer
    locate: Callable[[Node], tuple[dict | None, str]] = lambda node: (None, "")

    def error(self, node: Node, message: str, code: str, **extra) -> FilterError:
        position, prefix = self.locate(node)
        return FilterError(prefix + message, code=code, position=position, **extra)


def validate(
    node: Node, scope: Iterable[str] | None = None, context: Context | None = None
) -> Node:
    """Raise a FilterError unless ``node`` is a well-formed tree over the catalogue whose
    fields exist for every provider whose rows can reach them; return its canonical form.

    Providers are checked on the canonical form, so that the verdict depends on what a filter
    means, not on how it is spelled."""
    context = context or Context()
    if node == MATCH_ALL:
        return node
    _check_shape(node, context, depth=1)
    canonical = normalize(node)
    _check_scope(canonical, frozenset(scope or cat.ALL_PROVIDERS), context)
    return canonical


def _check_shape(node: Node, context: Context, depth: int):
    if depth > MAX_DEPTH:
        raise context.error(
            node,
            f"The filter nests groups more than {MAX_DEPTH} levels deep.",
            TOO_DEEP,
        )
    if isinstance(node, Group):
        if node.op not in (AND, OR):
            raise context.error(node, f"Unknown group operator {node.op!r}.", UNKNOWN_OPERATOR)
        if not node.children:
            raise context.error(node, "A group must have at least one condition.", EMPTY_GROUP)
        for child in node.children:
            _check_shape(child, context, depth + 1)
    elif isinstance(node, Not):
        _check_shape(node.child, context, depth + 1)
    elif isinstance(node, Condition):
        _check_condition(node, context)
    elif isinstance(node, TagCondition):
        _check_tag(node, context)
    else:
        raise FilterError(f"Not a filter node: {node!r}.", code=INVALID)


def _check_values(leaf: Leaf, context: Context, name: str):
    if leaf.op in (cat.IN, cat.NOT_IN) and not leaf.values:
        raise context.error(
            leaf, f"The list of values for {name} is empty.", EMPTY_LIST, field=name
        )
    if leaf.op in (cat.LIKE, cat.NOT_LIKE) and len(leaf.values) != 1:
        raise context.error(
            leaf, f"LIKE on {name} takes exactly one pattern.", INVALID_VALUE, field=name
        )
    for value in leaf.values:
        check_text(value, lambda message: context.error(leaf, message, INVALID_VALUE, field=name))
    if leaf.op in (cat.LIKE, cat.NOT_LIKE):
        try:
            like_tokens(leaf.values[0])
        except FilterError as error:
            raise context.error(leaf, error.message, INVALID_VALUE, field=name) from None


def check_text(value, fail: Callable[[str], FilterError]):
    """Values are strings that any database can store: no NUL, valid Unicode."""
    if not isinstance(value, str):
        raise fail(f"Values must be strings, not {type(value).__name__} ({value!r}).")
    if "\x00" in value:
        raise fail("Values may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise fail(f"The value {value!r} is not valid Unicode text.") from None


def _check_condition(leaf: Condition, context: Context):
    name = context.namer(leaf)
    spec = cat.FIELDS.get(leaf.field)
    if spec is None:
        raise context.error(
            leaf,
            f"Unknown field {name!r}.",
            UNKNOWN_FIELD,
            field=name,
            expected=cat.structured_field_names(),
        )
    if leaf.op not in cat.VALUE_OPS:
        raise context.error(leaf, f"Unknown operator {leaf.op!r}.", UNKNOWN_OPERATOR, field=name)
    if leaf.op not in spec.ops:
        raise context.error(
            leaf,
            f"The operator {leaf.op} is not allowed on {name}; it takes {', '.join(spec.ops)}.",
            OPERATOR_NOT_ALLOWED,
            field=name,
        )
    _check_values(leaf, context, name)
    if spec.name == "provider":
        unknown = [v for v in leaf.values if v not in cat.PROVIDERS]
        if unknown:
            raise context.error(
                leaf,
                f"Unknown provider {unknown[0]!r}; the providers are {', '.join(cat.PROVIDERS)}.",
                UNKNOWN_PROVIDER,
                field=name,
            )
    if spec.name == "integration_id":
        for value in leaf.values:
            if canonical_uuid(value) != value:
                raise context.error(
                    leaf,
                    f"{name} takes integration ids (UUIDs), not {value!r}.",
                    INVALID_VALUE,
                    field=name,
                )


def canonical_uuid(value: str) -> str | None:
    """The canonical spelling of a UUID (lowercase, hyphenated), or None."""
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        return None


def check_tag_key(key, fail: Callable[[str], FilterError]):
    if not isinstance(key, str) or not key:
        raise fail("A tag key must be a non-empty string.")
    check_text(key, fail)
    if '"' in key:
        # SQLite's JSON paths cannot name such a key, so the filter could not run everywhere.
        raise fail(f"Tag keys may not contain double quotes ({key!r}).")


def _check_tag(leaf: TagCondition, context: Context):
    name = context.namer(leaf)
    if leaf.op not in cat.TAG_OPS:
        raise context.error(leaf, f"Unknown operator {leaf.op!r}.", UNKNOWN_OPERATOR, field=name)
    if leaf.key is None:
        if leaf.op not in (cat.EXISTS, cat.NOT_EXISTS):
            raise context.error(
                leaf,
                "Without a tag key only 'exists' and 'not_exists' are allowed.",
                OPERATOR_NOT_ALLOWED,
                field=name,
            )
    else:
        check_tag_key(leaf.key, lambda message: context.error(leaf, message, INVALID_VALUE))
    if leaf.op in (cat.EXISTS, cat.NOT_EXISTS):
        if leaf.values:
            raise context.error(
                leaf, f"{leaf.op} on {name} takes no value.", INVALID_VALUE, field=name
            )
        return
    _check_values(leaf, context, name)


# --- providers -----------------------------------------------------------------------------


def provider_scope(node: Node) -> frozenset[str]:
    """The providers whose cost rows ``node`` can select (a safe over-approximation)."""
    if isinstance(node, Condition):
        if node.field != "provider":
            return cat.ALL_PROVIDERS
        values = frozenset(node.values) & cat.ALL_PROVIDERS
        return values if node.op == cat.IN else cat.ALL_PROVIDERS - values
    if isinstance(node, Not):
        child = node.child
        if isinstance(child, Condition) and child.field == "provider":
            return provider_scope(Condition(child.field, cat.NEGATION[child.op], child.values))
        return cat.ALL_PROVIDERS
    if isinstance(node, Group):
        scopes = [provider_scope(child) for child in node.children]
        if not scopes:
            return cat.ALL_PROVIDERS
        if node.op == AND:
            return frozenset.intersection(*scopes)
        return frozenset.union(*scopes)
    return cat.ALL_PROVIDERS


def _names(providers: Iterable[str]) -> str:
    return ", ".join(sorted(providers))


def _check_scope(node: Node, scope: frozenset[str], context: Context, negated: bool = False):
    """Every field must exist for every provider whose rows reach it: inside an AND group the
    rows are those of the providers that all its members allow. Provider conditions that can
    never hold are refused too, except under a NOT (where they are merely redundant)."""
    if isinstance(node, Group):
        if node.op == AND:
            inner = scope
            for child in node.children:
                narrowed = inner & provider_scope(child)
                if not narrowed and not negated:
                    what = context.namer(child) if isinstance(child, Leaf) else "this group"
                    raise context.error(
                        child,
                        f"The condition on {what} selects only "
                        f"{_names(provider_scope(child))} costs, but this part of the filter "
                        f"only sees {_names(inner)} costs: no cost row can match.",
                        PROVIDER_MISMATCH,
                        field=what,
                    )
                inner = narrowed
            scope = inner
        for child in node.children:
            _check_scope(child, scope, context, negated)
    elif isinstance(node, Not):
        _check_scope(node.child, scope, context, not negated)
    elif isinstance(node, Condition):
        spec = cat.FIELDS[node.field]
        name = context.namer(node)
        if spec.name == "provider":
            if not provider_scope(node) & scope and not negated:
                raise context.error(
                    node,
                    f"This condition on {name} can never hold: this part of the filter only "
                    f"sees {_names(scope)} costs.",
                    PROVIDER_MISMATCH,
                    field=name,
                )
            return
        missing = scope - spec.providers
        if missing:
            plural = "provider" if len(missing) == 1 else "providers"
            raise context.error(
                node,
                f"The field {name} is not available for {plural} {_names(missing)} "
                f"(it exists for {_names(spec.providers)} only); "
                f"limit this part of the filter to {_names(spec.providers)} with a provider "
                "condition.",
                PROVIDER_MISMATCH,
                field=name,
            )


def providers_of(node: Node | None) -> set[str]:
    """The providers whose cost rows the filter can select: exactly one means the filter is
    that provider's (a Vantage segment's provider), several mean it spans providers."""
    if node is None:
        return set(cat.ALL_PROVIDERS)
    return set(provider_scope(node))


def names_provider(node: Node | None) -> bool:
    """Whether a ``costs.provider`` condition appears anywhere in the tree (Vantage requires
    one in a segment's filter, even one that selects every provider)."""
    if isinstance(node, Condition):
        return node.field == "provider"
    if isinstance(node, Group):
        return any(names_provider(child) for child in node.children)
    if isinstance(node, Not):
        return names_provider(node.child)
    return False


def provider_condition(provider: str) -> Condition:
    return Condition("provider", cat.IN, (provider,))


def with_provider(node: Node | None, provider: str) -> Node:
    """``node`` AND ``provider = <provider>``: how the Archera surface scopes a filter."""
    if provider not in cat.PROVIDERS:
        raise FilterError(
            f"Unknown provider {provider!r}; the providers are {', '.join(cat.PROVIDERS)}.",
            code=UNKNOWN_PROVIDER,
            field="provider",
        )
    if node is None or node == MATCH_ALL:
        return provider_condition(provider)
    selected = provider_scope(node)
    if provider not in selected:
        raise FilterError(
            f"The filter only selects {_names(selected)} costs, but its provider is {provider}.",
            code=PROVIDER_MISMATCH,
            field="provider",
        )
    return validate(Group(AND, (provider_condition(provider), node)))


# --- canonical JSON ------------------------------------------------------------------------

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
    return {"type": node.op, "children": [_node_json(child) for child in node.children]}


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
        return Group(kind, tuple(_node_from_json(child, depth + 1) for child in children))
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
