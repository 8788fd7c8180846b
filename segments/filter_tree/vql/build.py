"""The VQL syntax tree to the filter tree: groups, NOT, and the meaning of tags.

``parse_vql`` runs the three steps: ``syntax.parse_syntax`` (text to a syntax tree with
offsets), ``Builder`` (syntax tree to filter-tree nodes, applying Vantage's rules and binding
each ``tags.value`` to its ``tags.name``), then ``tree.validate`` (fields against providers).
"""

from __future__ import annotations

from .. import catalogue as cat
from ..errors import (
    INVALID_VALUE,
    MISSING_PROVIDER,
    OPERATOR_NOT_ALLOWED,
    UNBOUND_TAG_VALUE,
    UNKNOWN_FIELD,
    UNSUPPORTED,
    FilterError,
)
from ..tree import AND, OR, Context, Group, Node, Not, TagCondition, check_tag_key, validate
from .rules import LeafRules
from .syntax import Compare, Negation, Seq, TupleIn, parse_syntax


class Builder(LeafRules):
    """Syntax tree to filter tree; every node it makes is marked with its offset."""

    def build(self, syntax) -> Node:
        if isinstance(syntax, Seq):
            return self.and_seq(syntax) if syntax.op == AND else self.or_seq(syntax)
        if isinstance(syntax, Negation):
            return self.mark(Not(self.build(syntax.child)), syntax.offset)
        if isinstance(syntax, TupleIn):
            return self.tuple_in(syntax)
        if syntax.field == cat.VQL_TAG_VALUE:
            raise self.unbound(syntax)
        if syntax.field == cat.VQL_ALLOCATION:
            raise self.error(
                "costs.allocation sets the share of cost a filter takes, it is not a condition: "
                "it may only be AND-ed with conditions.",
                UNSUPPORTED,
                syntax.offset,
                field=cat.VQL_ALLOCATION,
            )
        if syntax.field == cat.VQL_TAG_NAME:
            return self.tag_name(syntax, bound=[])
        return self.compare(syntax)

    def or_seq(self, syntax: Seq) -> Node:
        children = tuple(self.build(item) for item in syntax.items)
        return self.mark(Group(OR, children), syntax.offset)

    def and_seq(self, syntax: Seq) -> Node:
        """Members of an AND chain; a tags.value binds to the tags.name just before it (only
        other tags.value conditions may come between)."""
        children: list[Node] = []
        share = None
        name: Compare | None = None
        bound: list[Compare] = []
        conditions = 0
        for item in [*syntax.items, None]:
            if isinstance(item, Compare) and item.field == cat.VQL_TAG_VALUE:
                if name is None:
                    raise self.unbound(item)
                bound.append(item)
                continue
            if name is not None:
                children.append(self.tag_name(name, bound))
                name, bound = None, []
            if item is None:
                break
            conditions += 1
            if isinstance(item, Compare) and item.field == cat.VQL_ALLOCATION:
                if share is not None:
                    raise self.error(
                        "costs.allocation is given twice in one AND group.",
                        UNSUPPORTED,
                        item.offset,
                        field=cat.VQL_ALLOCATION,
                    )
                share = self.allocation(item)
                conditions -= 1
            elif isinstance(item, Compare) and item.field == cat.VQL_TAG_NAME:
                if item.op in ("=", cat.IN) and all(v.kind == "STRING" for v in item.values):
                    name = item
                else:
                    children.append(self.tag_name(item, []))
            else:
                children.append(self.build(item))
        if not children:
            raise self.error(
                "costs.allocation must be AND-ed with at least one condition.",
                UNSUPPORTED,
                syntax.offset,
                field=cat.VQL_ALLOCATION,
            )
        if share is not None and share != 1:
            return self.mark(Group(AND, tuple(children), share.normalize()), syntax.offset)
        if len(children) == 1:
            return children[0]
        return self.mark(Group(AND, tuple(children)), syntax.offset)

    def unbound(self, item: Compare) -> FilterError:
        return self.error(
            "tags.value must follow a tags.name = '<key>' (or tags.name IN (...)) condition "
            "in the same AND group, e.g. tags.name = 'environment' AND tags.value = 'prod'.",
            UNBOUND_TAG_VALUE,
            item.offset,
            field=cat.VQL_TAG_VALUE,
        )

    def tag_name(self, name: Compare, bound: list[Compare]) -> Node:
        """A tags.name condition with the tags.value conditions bound to it."""
        field_name = cat.VQL_TAG_NAME
        if name.op in (cat.LIKE, cat.NOT_LIKE):
            raise self.error(
                "LIKE is not supported on tags.name: name the tag key exactly (= or IN) and "
                "use LIKE on tags.value.",
                OPERATOR_NOT_ALLOWED,
                name.offset,
                field=field_name,
            )
        if name.op in ("=", "!=") and name.values[0].kind == "NULL":
            op = cat.NOT_EXISTS if name.op == "=" else cat.EXISTS
            return self.mark(TagCondition(None, op), name.offset)
        keys = self.strings(name, field_name)
        for key, syntax in zip(keys, name.values, strict=True):
            check_tag_key(
                key,
                lambda message, s=syntax: self.error(
                    message, INVALID_VALUE, s.offset, field=field_name
                ),
            )
        if name.op in ("!=", cat.NOT_IN):
            absent = [self.mark(TagCondition(key, cat.NOT_EXISTS), name.offset) for key in keys]
            return self.join(AND, absent, name.offset)
        per_key = []
        for key in keys:
            if not bound:
                per_key.append(self.mark(TagCondition(key, cat.EXISTS), name.offset))
                continue
            tests = []
            for value in bound:
                if value.values and value.values[0].kind == "NULL" and value.op in ("=", "!="):
                    raise self.error(
                        "tags.value = NULL is not supported: write tags.name = NULL for "
                        "untagged rows, or tags.name != 'key' for rows without that tag.",
                        INVALID_VALUE,
                        value.values[0].offset,
                        field=cat.VQL_TAG_VALUE,
                    )
                values = self.strings(value, cat.VQL_TAG_VALUE)
                op = self.tree_op(value.op)
                tests.append(self.mark(TagCondition(key, op, values), value.offset))
            per_key.append(self.join(AND, tests, name.offset))
        return self.join(OR, per_key, name.offset)

    def join(self, op: str, nodes: list[Node], offset: int) -> Node:
        if len(nodes) == 1:
            return nodes[0]
        return self.mark(Group(op, tuple(nodes)), offset)

    def tuple_in(self, syntax: TupleIn) -> Node:
        if syntax.fields != (cat.VQL_TAG_NAME, cat.VQL_TAG_VALUE):
            raise self.error(
                "The tuple form is (tags.name, tags.value) IN (('key', 'value'), ...), not "
                f"({', '.join(syntax.fields)}).",
                UNKNOWN_FIELD,
                syntax.offset,
                field=", ".join(syntax.fields),
            )
        tests = []
        for key_value, tag_value in syntax.pairs:
            pair = Compare(cat.VQL_TAG_NAME, key_value.offset, "=", [key_value])
            keys = self.strings(pair, cat.VQL_TAG_NAME)
            check_tag_key(
                keys[0],
                lambda message, k=key_value: self.error(
                    message, INVALID_VALUE, k.offset, field=cat.VQL_TAG_NAME
                ),
            )
            values = self.strings(
                Compare(cat.VQL_TAG_VALUE, tag_value.offset, "=", [tag_value]),
                cat.VQL_TAG_VALUE,
            )
            tests.append(self.mark(TagCondition(keys[0], cat.IN, values), key_value.offset))
        node = self.join(OR, tests, syntax.offset)
        return self.mark(Not(node), syntax.offset) if syntax.negated else node


def parse_vql(text: str, *, vantage_rules: bool = True) -> Node:
    """The canonical filter tree of a VQL text, or a FilterError naming where and why.

    ``vantage_rules`` applies Vantage's restrictions (a costs.provider condition is required;
    no LIKE on account ids, region and service). Filters rendered from structured (Archera)
    filters may need ``vantage_rules=False`` to parse back.
    """
    syntax = parse_syntax(text)
    builder = Builder(text, vantage_rules)
    tree = builder.build(syntax)
    if vantage_rules and not builder.saw_provider:
        raise FilterError(
            "The filter needs a costs.provider condition, as Vantage requires: e.g. "
            "costs.provider = 'aws' AND ...",
            code=MISSING_PROVIDER,
            field="costs.provider",
        )
    return validate(tree, context=Context(namer=builder.namer, locate=builder.locate))
