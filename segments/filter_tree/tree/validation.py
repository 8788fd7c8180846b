"""Validation of a filter tree: its shape, its values, and its fields against providers.

``validate`` is the one gate every tree passes (from VQL, structured JSON or storage); the
``Context`` lets each syntax name fields and positions in its own terms.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .. import catalogue as cat
from ..errors import (
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
from .like import like_tokens
from .nodes import AND, MATCH_ALL, MAX_DEPTH, OR, Condition, Group, Leaf, Node, Not, TagCondition
from .normalize import normalize
from .providers import provider_condition, provider_names, provider_scope


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
    _check_shape(node, context, depth=1, within=None)
    canonical = normalize(node)
    _check_scope(canonical, frozenset(scope or cat.ALL_PROVIDERS), context)
    return canonical


def _check_shape(node: Node, context: Context, depth: int, within: str | None):
    """``within``: "not" under a NOT, "share" inside a group that takes a share."""
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
        if node.share is not None:
            _check_share(node, context, within)
            within = "share"
        for child in node.children:
            _check_shape(child, context, depth + 1, within)
    elif isinstance(node, Not):
        _check_shape(node.child, context, depth + 1, "not")
    elif isinstance(node, Condition):
        _check_condition(node, context)
    elif isinstance(node, TagCondition):
        _check_tag(node, context)
    else:
        raise FilterError(f"Not a filter node: {node!r}.", code=INVALID)


def _check_share(node: Group, context: Context, within: str | None):
    problem = None
    if node.op != AND:
        problem = "costs.allocation belongs to an AND group of conditions."
    elif not (0 < node.share < 1):
        problem = "costs.allocation must be more than 0 and less than 1."
    elif within == "not":
        problem = "costs.allocation cannot be negated: leave it out of NOT (...)."
    elif within == "share":
        problem = "costs.allocation cannot be nested inside a group that already takes a share."
    if problem:
        raise context.error(node, problem, INVALID, field=cat.VQL_ALLOCATION)


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


# --- fields against providers -------------------------------------------------------------


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
                        f"{provider_names(provider_scope(child))} costs, but this part of the "
                        f"filter only sees {provider_names(inner)} costs: no cost row can match.",
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
                    f"sees {provider_names(scope)} costs.",
                    PROVIDER_MISMATCH,
                    field=name,
                )
            return
        missing = scope - spec.providers
        if missing:
            plural = "provider" if len(missing) == 1 else "providers"
            raise context.error(
                node,
                f"The field {name} is not available for {plural} {provider_names(missing)} "
                f"(it exists for {provider_names(spec.providers)} only); "
                f"limit this part of the filter to {provider_names(spec.providers)} with a "
                "provider condition.",
                PROVIDER_MISMATCH,
                field=name,
            )


# --- scoping a filter to one provider ------------------------------------------------------


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
            f"The filter only selects {provider_names(selected)} costs, "
            f"but its provider is {provider}.",
            code=PROVIDER_MISMATCH,
            field="provider",
        )
    return validate(Group(AND, (provider_condition(provider), node)))
