"""Reads of ``tags`` in a query, pointed at extra tag columns (virtual tags).

A reader asks for a tag in few ways, all written by Costline's own SQL builders:
``tags[<key>]``, ``mapContains(tags, <key>)``, ``empty(tags)`` and ``notEmpty(tags)``, the key
a query parameter (``{p3:String}``) or a string literal. When every read of ``tags`` in a
query is one of these, ``rewrite_tag_reads`` points the reads of the extra keys at their own
columns (a value there wins; "" falls back to the row's map), so no row's map is rebuilt. A
query that reads ``tags`` whole (an export of every tag) gets None: its rows must carry the
extra keys in the map itself.
"""

from __future__ import annotations

import re


def _key(name: str) -> str:
    """A key: a String query parameter (group ``<name>_param``) or a string literal
    (``<name>_literal``)."""
    return rf"(?:\{{(?P<{name}_param>\w+):String\}}|'(?P<{name}_literal>(?:[^'\\]|\\.)*)')"


_READS = re.compile(
    r"tags\[" + _key("index") + r"\]"
    r"|mapContains\(tags, " + _key("has") + r"\)"
    r"|notEmpty\(tags\)|\bempty\(tags\)|\btags\b"
)


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def reads_whole_tags(sql: str) -> bool:
    """Whether ``sql`` reads ``tags`` other than by key or emptiness."""
    return any(match.group(0) == "tags" for match in _READS.finditer(sql))


def rewrite_tag_reads(sql: str, params: dict, columns: dict[str, str]) -> str | None:
    """``sql`` with the reads of ``columns``' keys (key: column of String, "" when unset)
    answered from those columns; None when ``sql`` reads ``tags`` whole."""
    if not columns:
        return sql
    if reads_whole_tags(sql):
        return None
    any_set = " OR ".join(f"{column} != ''" for column in columns.values())

    def key_of(match, param: str, literal: str) -> str | None:
        if match.group(param) is not None:
            value = params.get(match.group(param))
            return None if value is None else str(value)
        if match.group(literal) is not None:
            return _unescape(match.group(literal))
        return None

    def replace(match) -> str:
        text = match.group(0)
        if text == "notEmpty(tags)":
            return f"(notEmpty(tags) OR {any_set})"
        if text == "empty(tags)":
            return f"(empty(tags) AND NOT ({any_set}))"
        if text.startswith("tags["):
            column = columns.get(key_of(match, "index_param", "index_literal"))
            if column is None:
                return text
            return f"if({column} != '', CAST({column} AS Nullable(String)), {text})"
        column = columns.get(key_of(match, "has_param", "has_literal"))
        return text if column is None else f"({column} != '' OR {text})"

    return _READS.sub(replace, sql)
