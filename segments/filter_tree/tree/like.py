"""LIKE patterns: tokens, escaping and the canonical spelling of a pattern.

"%" is any run of characters, "_" one character, and a backslash makes the next character
literal (as PostgreSQL's default LIKE escape), so that any substring can be written.
"""

from __future__ import annotations

from .. import catalogue as cat
from ..errors import INVALID_VALUE, FilterError

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
