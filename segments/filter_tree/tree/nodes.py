"""The node types of the filter tree.

A tree is made of ``Condition`` (a cost-row column compared with values), ``TagCondition`` (a
tag), ``Group`` (AND / OR of children) and ``Not``. Nodes are frozen dataclasses: immutable,
hashable and comparable; ``in`` / ``not_in`` values are kept sorted and without duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .. import catalogue as cat

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
    """AND / OR of ``children``. An empty AND is "every row" and only valid as a whole tree.

    ``share`` (AND groups only; VQL ``costs.allocation``) is the fraction of the matching cost
    a segment takes (0 < share < 1; None: all of it). It does not change which rows match."""

    op: str
    children: tuple[Node, ...] = field(default_factory=tuple)
    share: Decimal | None = None

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
