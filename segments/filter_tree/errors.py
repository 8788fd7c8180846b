"""The one error type of the filter language, for syntax and meaning alike."""

from __future__ import annotations

from core.errors import ServiceError

# The kinds of failure, as the ``code`` of a FilterError.
PARSE_ERROR = "parse_error"
TOO_LONG = "too_long"
TOO_DEEP = "too_deep"
UNKNOWN_FIELD = "unknown_field"
UNKNOWN_OPERATOR = "unknown_operator"
UNKNOWN_PROVIDER = "unknown_provider"
PROVIDER_MISMATCH = "provider_mismatch"
OPERATOR_NOT_ALLOWED = "operator_not_allowed"
INVALID_VALUE = "invalid_value"
EMPTY_LIST = "empty_list"
EMPTY_GROUP = "empty_group"
MISSING_PROVIDER = "missing_provider"
MIXED_AND_OR = "mixed_and_or"
UNBOUND_TAG_VALUE = "unbound_tag_value"
UNSUPPORTED = "unsupported"
INVALID = "invalid"


class FilterError(ServiceError):
    """A filter that does not parse or does not make sense.

    ``message`` says what is wrong and why; ``position`` (``{"offset", "line", "column"}``,
    offset from 0, line and column from 1) says where in a VQL text; ``field`` names the filter
    field concerned and ``expected`` lists what the parser would have accepted. ``str(error)``
    is the whole sentence, position included. It is a ``ServiceError`` so that any API surface
    renders it as a 400 in its own envelope without extra code.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = INVALID,
        position: dict | None = None,
        field: str | None = None,
        expected: list[str] | None = None,
    ):
        # ServiceError's ``field`` names a request field; ours names a filter field, so it is
        # kept out of ServiceError (see ``detail`` below).
        super().__init__(message, code=code)
        self.field = field
        self.position = position
        self.expected = expected

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        where = (
            f"Line {self.position['line']}, column {self.position['column']}"
            f" (offset {self.position['offset']})"
        )
        return f"{where}: {self.message}"

    @property
    def detail(self) -> list[str]:
        return [str(self)]

    def as_dict(self) -> dict:
        """The error as JSON for API answers and pages."""
        return {
            "detail": str(self),
            "message": self.message,
            "code": self.code,
            "position": self.position,
            "field": self.field,
            "expected": self.expected,
        }


def position_of(text: str, offset: int) -> dict:
    """Line and column (from 1) of ``offset`` (from 0) in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"offset": offset, "line": line, "column": column}
