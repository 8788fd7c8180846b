"""VQL text to a small syntax tree that keeps offsets (the first step of parsing).

The LALR parser (``vql.lark``) runs ``_ToSyntaxTree`` as it goes, so deep nesting never
recurses; every failure becomes a ``FilterError`` that names its position and, for syntax
errors, what was expected there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)

from .. import catalogue as cat
from ..errors import (
    MIXED_AND_OR,
    PARSE_ERROR,
    TOO_DEEP,
    TOO_LONG,
    FilterError,
    position_of,
)
from ..tree import MAX_DEPTH

MAX_LENGTH = 10_000  # characters; longer filters are refused before parsing


# --- syntax tree with offsets --------------------------------------------------------------


@dataclass
class Value:
    kind: str  # STRING, NUMBER or NULL
    text: str | None  # the string (quotes removed, '' unescaped) or the number as written
    offset: int


@dataclass
class Compare:
    field: str
    offset: int
    op: str  # "=", "!=", in, not_in, like, not_like
    values: list[Value]
    list_offset: int = 0
    depth: int = 1


@dataclass
class TupleIn:
    fields: tuple[str, str]
    offset: int
    negated: bool
    pairs: list[tuple[Value, Value]]
    depth: int = 2


@dataclass
class Seq:
    op: str  # and / or
    items: list
    offset: int
    depth: int = 1


@dataclass
class Negation:
    child: object
    offset: int
    depth: int = 1


def _value(token: Token) -> Value:
    if token.type == "STRING":
        return Value("STRING", token.value[1:-1].replace("''", "'"), token.start_pos)
    if token.type == "NUMBER":
        return Value("NUMBER", token.value, token.start_pos)
    return Value("NULL", None, token.start_pos)


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
        return _check_depth(Seq(op, items, _offset(items[0]), depth))

    def parens(self, children):
        inner = children[1]
        if isinstance(inner, Seq):
            inner.offset = children[0].start_pos
        return inner

    def negation(self, children):
        child = children[2]
        return _check_depth(Negation(child, children[0].start_pos, child.depth + 1))

    def compare(self, children):
        field_token, operator, value = children
        op = "=" if operator.value == "=" else "!="
        return Compare(field_token.value.lower(), field_token.start_pos, op, [_value(value)])

    def membership(self, children):
        field_token = children[0]
        negated = children[1].type == "NOT"
        rest = children[2 if negated else 1 :]
        # rest: IN LPAR [value (COMMA value)*] RPAR; an empty list gives one None placeholder
        values = [_value(t) for t in rest[2:-1] if t is not None and t.type != "COMMA"]
        return Compare(
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
        return Compare(field_token.value.lower(), field_token.start_pos, op, [_value(value)])

    def tuple_in(self, children):
        lpar, first, _comma, second, _rpar = children[:5]
        negated = children[5].type == "NOT"
        pairs = [child for child in children[6:] if isinstance(child, tuple)]
        fields = (first.value.lower(), second.value.lower())
        return TupleIn(fields, lpar.start_pos, negated, pairs)

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


def parse_syntax(text: str) -> Seq | Negation | Compare | TupleIn:
    """The syntax tree of a VQL text, or a FilterError naming where and why."""
    if not isinstance(text, str):
        raise FilterError("A VQL filter must be a string.", code=PARSE_ERROR)
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"The filter is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            code=TOO_LONG,
            position=position_of(text, MAX_LENGTH),
        )
    try:
        return _PARSER.parse(text)
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
