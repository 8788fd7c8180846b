"""ClickHouse SQL pieces: query parameters and the few literals the store writes itself.

Values from users reach a query only as ClickHouse query parameters (``{p0:String}``): the
server (chDB in-process, or a ClickHouse server through clickhouse-connect) binds them, so no
input is ever spliced into the SQL text. Literals are only written for values the application
makes itself (the manifest's file paths, small integer labels).
"""

from __future__ import annotations

from datetime import date

# ClickHouse reads a parameter's value in its "Escaped" text format (as a TSV field): these
# characters must be written as escapes, every other character stands for itself.
_PARAMETER_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"}
)


class Params:
    """Collects the parameters of one query and names them ``p0``, ``p1``, ... (another
    ``prefix`` keeps two collections of one query apart)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, object] = {}

    def add(self, value: object, type_name: str = "String") -> str:
        """The placeholder that stands for ``value`` in the SQL text."""
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return "{" + name + ":" + type_name + "}"

    def text(self, value: str) -> str:
        return self.add(value, "String")

    def day(self, value: date) -> str:
        return self.add(value.isoformat(), "Date")


def escape_parameter(value: object) -> str:
    """A parameter's value as ClickHouse's query-parameter protocol reads it (chDB needs this
    done by the caller; clickhouse-connect does the same for a server)."""
    return str(value).translate(_PARAMETER_ESCAPES)


def string_literal(value: str) -> str:
    """A ClickHouse string literal: backslash and quote escaped, every other byte as is."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
