"""VQL (Vantage's filter language) to and from the filter tree.

Parsing runs in three steps: the LALR parser (``vql.lark``) builds a small syntax tree that
keeps offsets; ``_Builder`` turns it into filter-tree nodes, applying Vantage's rules and the
meaning of ``tags.name`` / ``tags.value``; ``tree.validate`` checks fields against providers.
Every failure is a ``FilterError`` that names its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)

from . import catalogue as cat
from .errors import (
    EMPTY_LIST,
    INVALID_VALUE,
    MISSING_PROVIDER,
    MIXED_AND_OR,
    OPERATOR_NOT_ALLOWED,
    PARSE_ERROR,
    TOO_DEEP,
    TOO_LONG,
    UNBOUND_TAG_VALUE,
    UNKNOWN_FIELD,
    UNKNOWN_PROVIDER,
    UNSUPPORTED,
    FilterError,
    position_of,
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
    like_tokens,
    validate,
)

MAX_LENGTH = 10_000  # characters; longer filters are refused before parsing


# --- syntax tree with offsets --------------------------------------------------------------


@dataclass
class _Value:
    kind: str  # STRING, NUMBER or NULL
    text: str | None  # the string (quotes removed, '' unescaped) or the number as written
    offset: int


@dataclass
class _Compare:
    field: str
    offset: int
    op: str  # "=", "!=", in, not_in, like, not_like
    values: list[_Value]
    list_offset: int = 0
    depth: int = 1


@dataclass
class _TupleIn:
    fields: tuple[str, str]
    offset: int
    negated: bool
    pairs: list[tuple[_Value, _Value]]
    depth: int = 2


@dataclass
class _Seq:
    op: str  # and / or
    items: list
    offset: int
    depth: int = 1


@dataclass
class _Not:
    child: object
    offset: int
    depth: int = 1


def _value(token: Token) -> _Value:
    if token.type == "STRING":
        return _Value("STRING", token.value[1:-1].replace("''", "'"), token.start_pos)
    if token.type == "NUMBER":
        return _Value("NUMBER", token.value, token.start_pos)
    return _Value("NULL", None, token.start_pos)


def _check_depth(node):
    if node.depth > MAX_DEPTH:
        raise _SyntaxTreeError(
            f"The filter nests groups more than {MAX_DEPTH} levels deep.", TOO_DEEP, node.offset
        )
    return node


class _SyntaxTreeError(Exception):
    """Raised inside parser callbacks; turned into a FilterError with the text at hand."""

    def __init__(self, message: str, code: str, offset: int):
        super().__init__(message)
        self.message, self.code, self.offset = message, code, offset


class _ToSyntaxTree(Transformer):
    """Parser callbacks (run while parsing, so deep nesting never recurses)."""

    def start(self, children):
        return children[0]

    def expr(self, children):
        if len(children) == 1:
            return children[0]
        items = children[0::2]
        operators = children[1::2]
        op = operators[0].value.lower()
        for token in operators[1:]:
            if token.value.lower() != op:
                raise _SyntaxTreeError(
                    f"{token.value.upper()} follows {op.upper()} in the same group: VQL does not "
                    "mix AND and OR without parentheses; write (a AND b) OR c or "
                    "a AND (b OR c).",
                    MIXED_AND_OR,
                    token.start_pos,
                )
        depth = 1 + max(item.depth for item in items)
        return _check_depth(_Seq(op, items, _offset(items[0]), depth))

    def parens(self, children):
        inner = children[1]
        if isinstance(inner, _Seq):
            inner.offset = children[0].start_pos
        return inner

    def negation(self, children):
        child = children[2]
        return _check_depth(_Not(child, children[0].start_pos, child.depth + 1))

    def compare(self, children):
        field_token, operator, value = children
        op = "=" if operator.value == "=" else "!="
        return _Compare(field_token.value.lower(), field_token.start_pos, op, [_value(value)])

    def membership(self, children):
        field_token = children[0]
        negated = children[1].type == "NOT"
        rest = children[2 if negated else 1 :]
        # rest: IN LPAR [value (COMMA value)*] RPAR; an empty list gives one None placeholder
        values = [_value(t) for t in rest[2:-1] if t is not None and t.type != "COMMA"]
        return _Compare(
            field_token.value.lower(),
            field_token.start_pos,
            cat.NOT_IN if negated else cat.IN,
            values,
            list_offset=rest[1].start_pos,
        )

    def like(self, children):
        field_token = children[0]
        negated = children[1].type == "NOT"
        value = children[-1]
        op = cat.NOT_LIKE if negated else cat.LIKE
        return _Compare(field_token.value.lower(), field_token.start_pos, op, [_value(value)])

    def tuple_in(self, children):
        lpar, first, _comma, second, _rpar = children[:5]
        negated = children[5].type == "NOT"
        pairs = [child for child in children[6:] if isinstance(child, tuple)]
        fields = (first.value.lower(), second.value.lower())
        return _TupleIn(fields, lpar.start_pos, negated, pairs)

    def pair(self, children):
        return (_value(children[1]), _value(children[3]))


def _offset(node) -> int:
    return node.offset


_GRAMMAR = (Path(__file__).with_name("vql.lark")).read_text()
_PARSER = Lark(_GRAMMAR, parser="lalr", transformer=_ToSyntaxTree(), maybe_placeholders=True)


# --- errors of the parser ------------------------------------------------------------------

_TERMINAL_NAMES = {
    "FIELD": "a field name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "NULL": "NULL",
    "BOOL_OP": "AND or OR",
    "NOT": "NOT",
    "IN": "IN",
    "LIKE": "LIKE",
    "COMPARE": "=, != or <>",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "$END": "the end of the filter",
}
_TERMINAL_ORDER = list(_TERMINAL_NAMES)


def _expected(names) -> list[str]:
    known = [name for name in _TERMINAL_ORDER if name in set(names or ())]
    return [_TERMINAL_NAMES[name] for name in known]


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the filter"
    value = token.value if len(token.value) <= 30 else token.value[:27] + "..."
    return f"{value!r}"


def _parse_error(text: str, error: UnexpectedInput) -> FilterError:
    if isinstance(error, UnexpectedToken):
        offset = error.token.start_pos if error.token.type != "$END" else len(text)
        if offset is None:
            offset = len(text)
        found = _describe_token(error.token)
        expected = _expected(error.expected)
    elif isinstance(error, UnexpectedCharacters):
        offset = error.pos_in_stream
        char = text[offset] if offset < len(text) else ""
        found = f"the character {char!r}"
        expected = _expected(error.allowed)
        if char == '"':
            found += " (VQL strings take single quotes: 'aws')"
        elif char == "'":
            found = "a string that is never closed (a quote inside a string is written '')"
    else:  # UnexpectedEOF
        offset = len(text)
        found = "the end of the filter"
        expected = _expected(getattr(error, "expected", None))
    message = f"Syntax error: found {found}"
    if expected:
        message += f"; expected {_or_list(expected)}"
    return FilterError(
        message + ".",
        code=PARSE_ERROR,
        position=position_of(text, offset),
        expected=expected,
    )


def _or_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


# --- syntax tree to filter tree ------------------------------------------------------------


@dataclass
class _Builder:
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

    # nodes

    def build(self, syntax) -> Node:
        if isinstance(syntax, _Seq):
            return self.and_seq(syntax) if syntax.op == AND else self.or_seq(syntax)
        if isinstance(syntax, _Not):
            return self.mark(Not(self.build(syntax.child)), syntax.offset)
        if isinstance(syntax, _TupleIn):
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

    def or_seq(self, syntax: _Seq) -> Node:
        children = tuple(self.build(item) for item in syntax.items)
        return self.mark(Group(OR, children), syntax.offset)

    def and_seq(self, syntax: _Seq) -> Node:
        """Members of an AND chain; a tags.value binds to the tags.name just before it (only
        other tags.value conditions may come between)."""
        children: list[Node] = []
        name: _Compare | None = None
        bound: list[_Compare] = []
        conditions = 0
        for item in [*syntax.items, None]:
            if isinstance(item, _Compare) and item.field == cat.VQL_TAG_VALUE:
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
            if isinstance(item, _Compare) and item.field == cat.VQL_ALLOCATION:
                self.allocation(item)
                conditions -= 1
            elif isinstance(item, _Compare) and item.field == cat.VQL_TAG_NAME:
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
        if len(children) == 1:
            return children[0]
        return self.mark(Group(AND, tuple(children)), syntax.offset)

    def unbound(self, item: _Compare) -> FilterError:
        return self.error(
            "tags.value must follow a tags.name = '<key>' (or tags.name IN (...)) condition "
            "in the same AND group, e.g. tags.name = 'environment' AND tags.value = 'prod'.",
            UNBOUND_TAG_VALUE,
            item.offset,
            field=cat.VQL_TAG_VALUE,
        )

    def allocation(self, item: _Compare):
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
        if share != 1:
            raise self.error(
                f"costs.allocation = {value.text}: partial cost allocation is not supported; "
                "Costline allocates whole cost rows, so the only accepted share is 1.0 "
                "(the default). Leave costs.allocation out.",
                UNSUPPORTED,
                value.offset,
                field=cat.VQL_ALLOCATION,
            )

    def describe(self, value: _Value) -> str:
        if value.kind == "NULL":
            return "NULL"
        if value.kind == "NUMBER":
            return f"the number {value.text}"
        return f"the string {value.text!r}"

    def strings(self, item: _Compare, name: str) -> tuple[str, ...]:
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

    def compare(self, item: _Compare) -> Node:
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

    def tag_name(self, name: _Compare, bound: list[_Compare]) -> Node:
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

    def tuple_in(self, syntax: _TupleIn) -> Node:
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
            pair = _Compare(cat.VQL_TAG_NAME, key_value.offset, "=", [key_value])
            keys = self.strings(pair, cat.VQL_TAG_NAME)
            check_tag_key(
                keys[0],
                lambda message, k=key_value: self.error(
                    message, INVALID_VALUE, k.offset, field=cat.VQL_TAG_NAME
                ),
            )
            values = self.strings(
                _Compare(cat.VQL_TAG_VALUE, tag_value.offset, "=", [tag_value]),
                cat.VQL_TAG_VALUE,
            )
            tests.append(self.mark(TagCondition(keys[0], cat.IN, values), key_value.offset))
        node = self.join(OR, tests, syntax.offset)
        return self.mark(Not(node), syntax.offset) if syntax.negated else node

    def namer(self, leaf: Leaf) -> str:
        if isinstance(leaf, Condition):
            spec = cat.FIELDS.get(leaf.field)
            return spec.vql if spec else leaf.field
        if leaf.op in (cat.EXISTS, cat.NOT_EXISTS):
            return cat.VQL_TAG_NAME
        return cat.VQL_TAG_VALUE


def parse_vql(text: str, *, vantage_rules: bool = True) -> Node:
    """The canonical filter tree of a VQL text, or a FilterError naming where and why.

    ``vantage_rules`` applies Vantage's restrictions (a costs.provider condition is required;
    no LIKE on account ids, region and service). Filters rendered from structured (Archera)
    filters may need ``vantage_rules=False`` to parse back.
    """
    if not isinstance(text, str):
        raise FilterError("A VQL filter must be a string.", code=PARSE_ERROR)
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"The filter is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            code=TOO_LONG,
            position=position_of(text, MAX_LENGTH),
        )
    try:
        syntax = _PARSER.parse(text)
    except UnexpectedInput as error:
        raise _parse_error(text, error) from None
    except _SyntaxTreeError as error:
        raise FilterError(
            error.message, code=error.code, position=position_of(text, error.offset)
        ) from None
    except LarkError as error:  # lark wraps errors raised in callbacks on some paths
        cause = getattr(error, "orig_exc", None)
        if isinstance(cause, _SyntaxTreeError):
            raise FilterError(
                cause.message, code=cause.code, position=position_of(text, cause.offset)
            ) from None
        raise FilterError(f"Syntax error: {error}", code=PARSE_ERROR) from None
    builder = _Builder(text, vantage_rules)
    tree = builder.build(syntax)
    if vantage_rules and not builder.saw_provider:
        raise FilterError(
            "The filter needs a costs.provider condition, as Vantage requires: e.g. "
            "costs.provider = 'aws' AND ...",
            code=MISSING_PROVIDER,
            field="costs.provider",
        )
    return validate(tree, context=Context(namer=builder.namer, locate=builder.locate))


# --- rendering -----------------------------------------------------------------------------


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values_vql(field_name: str, op: str, values: tuple[str, ...]) -> str:
    if op in (cat.IN, cat.NOT_IN):
        if len(values) == 1:
            return f"{field_name} {'=' if op == cat.IN else '!='} {quote(values[0])}"
        keyword = "IN" if op == cat.IN else "NOT IN"
        return f"{field_name} {keyword} ({', '.join(quote(v) for v in values)})"
    keyword = "LIKE" if op == cat.LIKE else "NOT LIKE"
    return f"{field_name} {keyword} {quote(values[0])}"


def render_vql(node: Node) -> str:
    """Canonical VQL for a tree (an empty string for the match-everything tree)."""
    if node == MATCH_ALL:
        return ""
    return _render(node, parent=None)


def _render(node: Node, parent: str | None) -> str:
    if isinstance(node, Condition):
        return _values_vql(cat.FIELDS[node.field].vql, node.op, node.values)
    if isinstance(node, TagCondition):
        return _render_tag(node, parent)
    if isinstance(node, Not):
        return f"NOT ({_render(node.child, None)})"
    joiner = " AND " if node.op == AND else " OR "
    text = joiner.join(_render(child, node.op) for child in node.children)
    return f"({text})" if parent is not None else text


def _render_tag(node: TagCondition, parent: str | None) -> str:
    if node.key is None:
        return f"{cat.VQL_TAG_NAME} {'=' if node.op == cat.NOT_EXISTS else '!='} NULL"
    name = f"{cat.VQL_TAG_NAME} {'!=' if node.op == cat.NOT_EXISTS else '='} {quote(node.key)}"
    if node.op in (cat.EXISTS, cat.NOT_EXISTS):
        return name
    text = f"{name} AND {_values_vql(cat.VQL_TAG_VALUE, node.op, node.values)}"
    return f"({text})" if parent == OR else text
