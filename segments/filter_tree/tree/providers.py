"""Provider scope: which providers' cost rows a filter tree can select."""

from __future__ import annotations

from collections.abc import Iterable

from .. import catalogue as cat
from .nodes import AND, Condition, Group, Node, Not


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


def provider_names(providers: Iterable[str]) -> str:
    return ", ".join(sorted(providers))


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
