"""Vantage's rules for one VQL comparison, and the bookkeeping that lets errors name offsets.

``LeafRules`` turns a single ``field op value`` of the syntax tree into a filter-tree leaf:
known field, allowed operator, quoted strings, providers and integration ids, and the
``costs.allocation`` share (more than 0, at most 1). ``build.Builder`` adds the structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .. import catalogue as cat
from ..errors import (
    EMPTY_LIST,
    INVALID_VALUE,
    OPERATOR_NOT_ALLOWED,
    UNKNOWN_FIELD,
    UNKNOWN_PROVIDER,
    FilterError,
    position_of,
)
from ..tree import Condition, Leaf, Node, canonical_uuid, check_text, like_tokens
from .syntax import Compare, Value


@dataclass
class LeafRules:
    text: str
    vantage_rules: bool
    offsets: dict[int, int] = field(default_factory=dict)
    nodes: list = field(default_factory=list)  # keeps marked nodes alive so ids stay unique
    # Checks on the canonical tree find its nodes by value (first occurrence wins).
    offsets_by_value: dict = field(default_factory=dict)
    saw_provider: bool = False

    def error(self, message: str, code: str, offset: int | None, **extra) -> FilterError:
        position = position_of(self.text, offset) if offset is not None else None
        return FilterError(message, code=code, position=position, **extra)

    def mark(self, node: Node, offset: int) -> Node:
        self.offsets[id(node)] = offset
        self.offsets_by_value.setdefault(node, offset)
        self.nodes.append(node)
        return node

    def locate(self, node: Node) -> tuple[dict | None, str]:
        offset = self.offsets.get(id(node), self.offsets_by_value.get(node))
        return (position_of(self.text, offset) if offset is not None else None), ""

    def namer(self, leaf: Leaf) -> str:
        if isinstance(leaf, Condition):
            spec = cat.FIELDS.get(leaf.field)
            return spec.vql if spec else leaf.field
        if leaf.op in (cat.EXISTS, cat.NOT_EXISTS):
            return cat.VQL_TAG_NAME
        return cat.VQL_TAG_VALUE

    # one comparison

    def allocation(self, item: Compare) -> Decimal:
        if item.op != "=":
            raise self.error(
                "costs.allocation only takes =, as in costs.allocation = 1.0.",
                OPERATOR_NOT_ALLOWED,
                item.offset,
                field=cat.VQL_ALLOCATION,
            )
        value = item.values[0]
        try:
            share = Decimal(value.text) if value.text is not None else None
        except InvalidOperation:
            share = None
        if share is None:
            raise self.error(
                f"costs.allocation takes a number, as in costs.allocation = 1.0; found "
                f"{self.describe(value)}.",
                INVALID_VALUE,
                value.offset,
                field=cat.VQL_ALLOCATION,
            )
        if not share.is_finite() or share <= 0 or share > 1:
            raise self.error(
                f"costs.allocation = {value.text}: the share of cost a segment takes must be "
                "more than 0 and at most 1, as in costs.allocation = 0.5.",
                INVALID_VALUE,
                value.offset,
                field=cat.VQL_ALLOCATION,
            )
        return share

    def describe(self, value: Value) -> str:
        if value.kind == "NULL":
            return "NULL"
        if value.kind == "NUMBER":
            return f"the number {value.text}"
        return f"the string {value.text!r}"

    def strings(self, item: Compare, name: str) -> tuple[str, ...]:
        if item.op in (cat.IN, cat.NOT_IN) and not item.values:
            raise self.error(
                f"The IN list of {name} is empty; give at least one value.",
                EMPTY_LIST,
                item.list_offset,
                field=name,
            )
        out = []
        for value in item.values:
            if value.kind != "STRING":
                hint = (
                    " NULL is only allowed in tags.name = NULL (untagged rows)."
                    if value.kind == "NULL"
                    else f" Quote it: '{value.text}'."
                )
                raise self.error(
                    f"{name} takes quoted strings, not {self.describe(value)}.{hint}",
                    INVALID_VALUE,
                    value.offset,
                    field=name,
                )
            check_text(
                value.text,
                lambda message, v=value: self.error(message, INVALID_VALUE, v.offset, field=name),
            )
            if item.op in (cat.LIKE, cat.NOT_LIKE):
                try:
                    like_tokens(value.text)
                except FilterError as error:
                    raise self.error(
                        error.message, INVALID_VALUE, value.offset, field=name
                    ) from None
            out.append(value.text)
        return tuple(out)

    @staticmethod
    def tree_op(op: str) -> str:
        return {"=": cat.IN, "!=": cat.NOT_IN}.get(op, op)

    def compare(self, item: Compare) -> Node:
        spec = cat.VQL_FIELDS.get(item.field)
        if spec is None:
            raise self.error(
                f"Unknown field {item.field!r}. VQL fields are {', '.join(cat.vql_field_names())}.",
                UNKNOWN_FIELD,
                item.offset,
                field=item.field,
                expected=cat.vql_field_names(),
            )
        op = self.tree_op(item.op)
        if op in (cat.LIKE, cat.NOT_LIKE):
            if not spec.like:
                raise self.error(
                    f"LIKE is not allowed on {item.field}; use = or IN.",
                    OPERATOR_NOT_ALLOWED,
                    item.offset,
                    field=item.field,
                )
            if self.vantage_rules and not spec.vql_like:
                raise self.error(
                    f"LIKE is not allowed on {item.field}: as in Vantage, LIKE does not work on "
                    "costs.account_id, costs.provider_account_id, costs.region and "
                    "costs.service. Use = or IN.",
                    OPERATOR_NOT_ALLOWED,
                    item.offset,
                    field=item.field,
                )
        values = self.strings(item, item.field)
        if spec.name == "provider":
            self.saw_provider = True
            values = tuple(v.lower() for v in values)
            for value, syntax in zip(values, item.values, strict=True):
                if value not in cat.PROVIDERS:
                    raise self.error(
                        f"Unknown provider {syntax.text!r}; Costline's providers are "
                        f"{', '.join(cat.PROVIDERS)}.",
                        UNKNOWN_PROVIDER,
                        syntax.offset,
                        field=item.field,
                    )
        if spec.name == "integration_id":
            canonical = []
            for value, syntax in zip(values, item.values, strict=True):
                uuid_text = canonical_uuid(value)
                if uuid_text is None:
                    raise self.error(
                        f"{item.field} takes integration ids (UUIDs), not {value!r}.",
                        INVALID_VALUE,
                        syntax.offset,
                        field=item.field,
                    )
                canonical.append(uuid_text)
            values = tuple(canonical)
        return self.mark(Condition(spec.name, op, values), item.offset)
