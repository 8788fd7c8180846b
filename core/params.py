"""Checks shared by every surface on raw request parameters, before any parser sees them.

Two kinds of input break deeper layers rather than failing validation there:

* a NUL character: PostgreSQL text cannot hold it, so a lookup with it raises instead of
  matching nothing;
* a date-time whose UTC offset is past ±15:59: Python accepts offsets up to ±23:59, PostgreSQL
  (``time zone displacement out of range``) does not.

``query_problems`` finds both in a query string; ``utc_offset_problem`` and ``parse_datetime``
serve the parsers of bodies (e.g. ingested events).
"""

from __future__ import annotations

import datetime
import re

NUL = "\x00"
MAX_UTC_OFFSET = datetime.timedelta(hours=15, minutes=59)
NUL_MESSAGE = "must not contain a NUL character."

# A date and a time, then an explicit offset: +HH, +HHMM or +HH:MM (seconds allowed too).
_OFFSET_AT_END = re.compile(
    r"^\s*\d{4}-?\d{2}-?\d{2}[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?"
    r"(?P<sign>[+-])(?P<hours>\d{2})(?::?(?P<minutes>\d{2}))?(?::?\d{2}(?:\.\d+)?)?\s*$"
)


def contains_nul(value) -> bool:
    """Whether a NUL character hides anywhere in a JSON-like value (keys included)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def offset_text_problem(value: str) -> str | None:
    """Why the UTC offset written at the end of ``value`` is refused, or None."""
    match = _OFFSET_AT_END.match(value)
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if minutes > 59 or datetime.timedelta(hours=hours, minutes=minutes) > MAX_UTC_OFFSET:
        offset = value.strip()[match.start("sign") :]
        return f"time-zone offset {offset} is out of range (at most ±15:59)."
    return None


def utc_offset_problem(value: datetime.datetime) -> str | None:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return f"time-zone offset {value.strftime('%z')} is out of range (at most ±15:59)."
    return None


def parse_datetime(value) -> datetime.datetime:
    """An ISO 8601 date-time in UTC (naive means UTC); ValueError says what is wrong."""
    if not isinstance(value, str) or not value or NUL in value:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.")
    problem = offset_text_problem(value)
    if problem:
        raise ValueError(problem)
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.") from None
    problem = utc_offset_problem(parsed)
    if problem:
        raise ValueError(problem)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def query_problems(query) -> list[tuple[str, str]]:
    """``(parameter, message)`` for each unusable value of a QueryDict (or a mapping of lists)."""
    problems = []
    for name, values in query.lists():
        if NUL in name:
            problems.append((name.replace(NUL, "\\x00"), "the parameter name " + NUL_MESSAGE))
            continue
        for value in values:
            if NUL in value:
                problems.append((name, NUL_MESSAGE))
                break
            problem = offset_text_problem(value)
            if problem:
                problems.append((name, problem))
                break
    return problems


# The one UTC timestamp format of every API: 2026-10-01T12:00:00Z (no fraction).
UTC_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_timestamp(value: datetime.datetime) -> str:
    """An aware date-time as the APIs write it, converted to UTC."""
    return value.astimezone(datetime.UTC).strftime(UTC_TIMESTAMP_FORMAT)


def date_param(query, name: str) -> datetime.date | None:
    """An optional ``YYYY-MM-DD`` query parameter; a bad one is a ServiceError naming it."""
    from .errors import ServiceError

    raw = query.get(name)
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ServiceError(
            f"must be a date like 2026-10-01, got '{raw}'.", field=name, code="invalid_date"
        ) from None
