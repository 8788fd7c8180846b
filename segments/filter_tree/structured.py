"""Structured JSON filters (the Archera surface) to and from the filter tree.

A filter is a list of conditions that must all hold, each ``{"field", "op", "value"}``; as
extensions, a list item (or the whole filter) may be a group ``{"any": [...]}`` (OR),
``{"all": [...]}`` (AND) or ``{"not": item}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import catalogue as cat
from .errors import (
    EMPTY_GROUP,
    EMPTY_LIST,
    INVALID,
    INVALID_VALUE,
    OPERATOR_NOT_ALLOWED,
    TOO_DEEP,
    TOO_LONG,
    UNKNOWN_FIELD,
    UNKNOWN_OPERATOR,
    UNKNOWN_PROVIDER,
    FilterError,
)
from .tree import (
    AND,
    MATCH_ALL,
    MAX_DEPTH,
    OR,
    Condition,
    Context,
    Group,
    Leaf,
    Node,
    Not,
    TagCondition,
    canonical_uuid,
    check_tag_key,
    check_text,
    like_pattern_for_substring,
    like_tokens,
    substring_of_like,
    validate,
    with_provider,
)
from .vql import MAX_LENGTH

# Operators of the structured syntax and the tree operator each stands for.
SINGLE_VALUE_OPS = {
    "=": cat.IN,
    "!=": cat.NOT_IN,
    "contains": cat.LIKE,
    "not_contains": cat.NOT_LIKE,
    "like": cat.LIKE,  # extension: a LIKE pattern (% _ and \ escapes)
    "not_like": cat.NOT_LIKE,
}
LIST_OPS = {"in": cat.IN, "not_in": cat.NOT_IN}
PRESENCE_OPS = {"exists": cat.EXISTS, "not_exists": cat.NOT_EXISTS}  # tags only
OPERATORS = [*SINGLE_VALUE_OPS, *LIST_OPS, *PRESENCE_OPS]
GROUP_KEYS = {"any": OR, "all": AND}
CONDITION_KEYS = {"field", "op", "value"}


@dataclass
class _Reader:
    paths: dict[int, str] = field(default_factory=dict)
    nodes: list = field(default_factory=list)  # keeps marked nodes alive so ids stay unique
    # Checks on the canonical tree find its nodes by value (first occurrence wins).
    paths_by_value: dict = field(default_factory=dict)

    def mark(self, node: Node, path: str) -> Node:
        self.paths[id(node)] = path
        self.paths_by_value.setdefault(node, path)
        self.nodes.append(node)
        return node

    def locate(self, node: Node) -> tuple[None, str]:
        path = self.paths.get(id(node), self.paths_by_value.get(node))
        return None, (f"{_where(path)}: " if path is not None else "")

    def error(self, path: str, message: str, code: str, **extra) -> FilterError:
        return FilterError(f"{_where(path)}: {message}", code=code, **extra)

    def item(self, data, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(path, f"Groups nest more than {MAX_DEPTH} levels deep.", TOO_DEEP)
        if isinstance(data, list):
            return self.group(AND, data, path, depth)
        if not isinstance(data, dict):
            raise self.error(
                path,
                'A condition is an object {"field", "op", "value"} or a group '
                f'{{"any": [...]}} / {{"all": [...]}}, not {_short(data)}.',
                INVALID,
            )
        groups = [key for key in ("any", "all", "not") if key in data]
        if groups:
            if len(data) != 1:
                raise self.error(
                    path, f"A {groups[0]!r} group has no other keys than {groups[0]!r}.", INVALID
                )
            key = groups[0]
            if key == "not":
                return self.mark(Not(self.item(data[key], f"{path}.not", depth + 1)), path)
            if not isinstance(data[key], list):
                raise self.error(path, f"{key!r} takes a list of conditions.", INVALID)
            return self.group(GROUP_KEYS[key], data[key], f"{path}.{key}", depth)
        return self.condition(data, path)

    def group(self, op: str, items: list, path: str, depth: int) -> Node:
        if not items:
            raise self.error(path, "A group needs at least one condition.", EMPTY_GROUP)
        children = tuple(
            self.item(child, f"{path}[{index}]", depth + 1) for index, child in enumerate(items)
        )
        return self.mark(Group(op, children), path)

    def condition(self, data: dict, path: str) -> Leaf:
        unknown = set(data) - CONDITION_KEYS
        if unknown:
            raise self.error(
                path,
                f"Unexpected key {sorted(unknown)[0]!r}; a condition has the keys field, op "
                "and value.",
                INVALID,
            )
        name = data.get("field")
        op = data.get("op")
        if not isinstance(name, str):
            raise self.error(path, 'A condition needs a "field" (a string).', UNKNOWN_FIELD)
        if not isinstance(op, str) or op not in OPERATORS:
            raise self.error(
                path,
                f"Unknown operator {op!r} on {name}; the operators are {', '.join(OPERATORS)}.",
                UNKNOWN_OPERATOR,
                field=name,
                expected=OPERATORS,
            )
        if name == cat.TAGS_FIELD or name.startswith(cat.TAG_PREFIX):
            return self.tag(name, op, data, path)
        spec = cat.FIELDS.get(name)
        if spec is None:
            raise self.error(
                path,
                f"Unknown field {name!r}; the fields are "
                f"{', '.join(cat.structured_field_names())}.",
                UNKNOWN_FIELD,
                field=name,
                expected=cat.structured_field_names(),
            )
        if op in PRESENCE_OPS or (
            SINGLE_VALUE_OPS.get(op) in (cat.LIKE, cat.NOT_LIKE) and not spec.like
        ):
            allowed = [o for o in OPERATORS if o not in PRESENCE_OPS]
            if not spec.like:
                allowed = ["=", "!=", *LIST_OPS]
            raise self.error(
                path,
                f"The operator {op} is not allowed on {name}; use {', '.join(allowed)}.",
                OPERATOR_NOT_ALLOWED,
                field=name,
            )
        tree_op, values = self.values(name, op, data, path)
        if spec.name == "provider":
            values = tuple(v.lower() for v in values)
            for value in values:
                if value not in cat.PROVIDERS:
                    raise self.error(
                        path,
                        f"Unknown provider {value!r}; the providers are "
                        f"{', '.join(cat.PROVIDERS)}.",
                        UNKNOWN_PROVIDER,
                        field=name,
                    )
        if spec.name == "integration_id":
            canonical = tuple(canonical_uuid(value) for value in values)
            if None in canonical:
                bad = values[canonical.index(None)]
                raise self.error(
                    path,
                    f"integration_id takes integration ids (UUIDs), not {bad!r}.",
                    INVALID_VALUE,
                    field=name,
                )
            values = canonical
        return self.mark(Condition(spec.name, tree_op, values), path)

    def tag(self, name: str, op: str, data: dict, path: str) -> Leaf:
        key = None if name == cat.TAGS_FIELD else name[len(cat.TAG_PREFIX) :]
        if key is not None:
            check_tag_key(key, lambda message: self.error(path, message, INVALID_VALUE, field=name))
        if op in PRESENCE_OPS:
            if data.get("value") is not None:
                raise self.error(
                    path, f"The operator {op} takes no value.", INVALID_VALUE, field=name
                )
            return self.mark(TagCondition(key, PRESENCE_OPS[op]), path)
        if key is None:
            raise self.error(
                path,
                f"{cat.TAGS_FIELD!r} only takes exists / not_exists (untagged rows); "
                f'use "{cat.TAG_PREFIX}<key>" to test one tag.',
                OPERATOR_NOT_ALLOWED,
                field=name,
            )
        tree_op, values = self.values(name, op, data, path)
        return self.mark(TagCondition(key, tree_op, values), path)

    def values(self, name: str, op: str, data: dict, path: str) -> tuple[str, tuple[str, ...]]:
        def fail(message: str) -> FilterError:
            return self.error(path, message, INVALID_VALUE, field=name)

        if "value" not in data:
            raise fail(f'{op} on {name} needs a "value".')
        value = data["value"]
        if op in LIST_OPS:
            if not isinstance(value, list):
                raise fail(
                    f"The operator {op} takes a list of strings as its value, not {_short(value)}."
                )
            if not value:
                raise self.error(
                    path, f"The list of values for {name} is empty.", EMPTY_LIST, field=name
                )
            for item in value:
                check_text(item, fail)
            return LIST_OPS[op], tuple(value)
        if not isinstance(value, str):
            raise fail(f"The operator {op} takes a string as its value, not {_short(value)}.")
        check_text(value, fail)
        if op in ("contains", "not_contains"):
            return SINGLE_VALUE_OPS[op], (like_pattern_for_substring(value),)
        if op in ("like", "not_like"):
            try:
                like_tokens(value)
            except FilterError as error:
                raise fail(error.message) from None
        return SINGLE_VALUE_OPS[op], (value,)


def _where(path: str | None) -> str:
    return f"filters{path}" if path else "filters"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _namer(leaf: Leaf) -> str:
    if isinstance(leaf, Condition):
        return leaf.field
    return cat.TAG_PREFIX + leaf.key if leaf.key is not None else cat.TAGS_FIELD


def parse_structured(data, provider: str | None = None) -> Node:
    """The canonical tree of a structured filter; with ``provider``, scoped to it (the
    provider condition is AND-ed in and every field must exist for that provider)."""
    if provider is not None and provider not in cat.PROVIDERS:
        raise FilterError(
            f"Unknown provider {provider!r}; the providers are {', '.join(cat.PROVIDERS)}.",
            code=UNKNOWN_PROVIDER,
            field="provider",
        )
    _check_size(data)
    reader = _Reader()
    if isinstance(data, list) and not data:
        node: Node = MATCH_ALL
    else:
        node = reader.item(data, "", depth=1)
    scope = {provider} if provider else None
    tree = validate(node, scope=scope, context=Context(namer=_namer, locate=reader.locate))
    return with_provider(tree, provider) if provider else tree


# --- limits --------------------------------------------------------------------------------

# The limits of a VQL filter, applied to a structured one before any of it is parsed: VQL refuses
# texts longer than MAX_LENGTH characters, which hold at most about MAX_CONDITIONS conditions
# (``costs.region = 'x' OR ...``). Here the characters are those of the field names, operators
# and values (at least one per value or list), and the conditions are the objects (conditions
# and groups).
MAX_CONDITIONS = 500


def _check_size(data) -> None:
    """Refuse a filter past the limits in time bounded by the limits, not by the input: the
    walk stops at the first item over them, and never descends past MAX_DEPTH."""
    conditions = characters = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            conditions += 1
            if conditions > MAX_CONDITIONS:
                raise FilterError(
                    f"{_where('')}: more than {MAX_CONDITIONS:,} conditions; "
                    f"the limit is {MAX_CONDITIONS:,}.",
                    code=TOO_LONG,
                )
        characters += max(len(value), 1) if isinstance(value, str) else 1
        if characters > MAX_LENGTH:
            raise FilterError(
                f"{_where('')}: more than {MAX_LENGTH:,} characters; the limit is {MAX_LENGTH:,}.",
                code=TOO_LONG,
            )
        if isinstance(value, list | dict) and depth <= MAX_DEPTH + 1:
            # Deeper than that, the reader reports how deep it nests.
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


# --- rendering -----------------------------------------------------------------------------


def render_structured(node: Node, *, omit_provider: bool = True) -> list:
    """A tree as structured JSON: a list of conditions that must all hold, with ``any`` /
    ``all`` / ``not`` groups where the tree needs them. ``omit_provider`` leaves out the
    top-level ``provider = X`` condition, as the Archera surface shows ``filters``."""
    if omit_provider:
        node = _without_provider(node)
    if node == MATCH_ALL:
        return []
    if isinstance(node, Group) and node.op == AND:
        return [_item(child) for child in node.children]
    # Always a list, the seed's shape: a filter sent as a list reads back as one.
    return [_item(node)]


def _is_provider_condition(node: Node) -> bool:
    return (
        isinstance(node, Condition)
        and node.field == "provider"
        and node.op == cat.IN
        and len(node.values) == 1
    )


def _without_provider(node: Node) -> Node:
    if _is_provider_condition(node):
        return MATCH_ALL
    if isinstance(node, Group) and node.op == AND:
        rest = [child for child in node.children if not _is_provider_condition(child)]
        if len(rest) == len(node.children):
            return node
        return rest[0] if len(rest) == 1 else Group(AND, tuple(rest))
    return node


def _item(node: Node) -> dict:
    if isinstance(node, Group):
        key = "all" if node.op == AND else "any"
        return {key: [_item(child) for child in node.children]}
    if isinstance(node, Not):
        return {"not": _item(node.child)}
    if isinstance(node, Condition):
        name = node.field
    elif node.key is None:
        return {"field": cat.TAGS_FIELD, "op": node.op}
    else:
        name = cat.TAG_PREFIX + node.key
    if node.op in (cat.EXISTS, cat.NOT_EXISTS):
        return {"field": name, "op": node.op}
    if node.op in (cat.IN, cat.NOT_IN):
        if len(node.values) == 1:
            return {
                "field": name,
                "op": "=" if node.op == cat.IN else "!=",
                "value": node.values[0],
            }
        return {"field": name, "op": node.op, "value": [*node.values]}
    substring = substring_of_like(node.values[0])
    if substring is not None:
        op = "contains" if node.op == cat.LIKE else "not_contains"
        return {"field": name, "op": op, "value": substring}
    return {"field": name, "op": node.op, "value": node.values[0]}
