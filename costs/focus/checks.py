"""Arrow checks of a FOCUS batch: text, amounts, dates, tags and providers.

Each check runs vectorised over a whole column (pyarrow's compute functions run in C++) and
raises ``RowError`` at the first bad value; Python only sees the few distinct values of JSON
columns.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from core.params import contains_nul

from .columns import MAX_LENGTHS, TRUNCATED_COLUMNS, provider_code
from .errors import RowError

# numeric(28, 10): 18 digits before the decimal point.
MAX_ABS_AMOUNT = 1e18

NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
TIMESTAMP_RE = (
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
)
OFFSET_RE = r"(Z|[+-]\d{2}(:?\d{2})?)$"


def check_nul(values: pa.Array, focus_name: str) -> None:
    """PostgreSQL text holds no NUL character: refuse it here, with its line and column."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return
    has_nul = pc.fill_null(pc.match_substring(values, "\x00"), False)
    if pc.any(has_nul).as_py():
        index = first_index(has_nul)
        raise RowError(index, focus_name, "contains a NUL character", values[index].as_py())


def first_index(mask: pa.Array) -> int:
    return pc.index(mask, True).as_py()


def check_length(values: pa.Array, name: str, focus_name: str) -> pa.Array:
    limit = MAX_LENGTHS[name]
    too_long = pc.greater(pc.utf8_length(values), limit)
    if not pc.any(too_long).as_py():
        return values
    if name in TRUNCATED_COLUMNS:
        return pc.utf8_slice_codeunits(values, 0, limit)
    index = first_index(too_long)
    raise RowError(index, focus_name, f"longer than {limit} characters", values[index].as_py())


def as_text(values: pa.Array) -> pa.Array:
    """Any Arrow column as non-null strings ("" for null)."""
    if pa.types.is_null(values.type):
        return pa.repeat("", len(values)).cast(pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return pc.fill_null(values, "").cast(pa.string())


def amount_text(values: pa.Array, focus_name: str, *, required: bool) -> pa.Array:
    """Validated decimal text (null for an empty optional amount)."""
    text = as_text(values)
    empty = pc.equal(text, "")
    has_empty = pc.any(empty).as_py()
    if required and has_empty:
        raise RowError(first_index(empty), focus_name, "is empty; FOCUS requires a value", "")
    try:
        # Fast path: Arrow's number parser accepts the column as it is.
        numbers = pc.cast(pc.if_else(empty, "0", text) if has_empty else text, pa.float64())
    except pa.ArrowInvalid:
        numbers = None
    if numbers is None or not pc.all(pc.is_finite(numbers)).as_py():
        invalid = pc.and_(pc.invert(empty), pc.invert(pc.match_substring_regex(text, NUMBER_RE)))
        if pc.any(invalid).as_py():
            index = first_index(invalid)
            raise RowError(index, focus_name, "not a number", text[index].as_py())
        numbers = pc.cast(pc.if_else(empty, "0", text), pa.float64())
    too_big = pc.invert(pc.less(pc.abs(numbers), MAX_ABS_AMOUNT))
    if pc.any(too_big).as_py():
        index = first_index(too_big)
        raise RowError(
            index, focus_name, "too large (at most 18 integer digits)", text[index].as_py()
        )
    return pc.if_else(empty, pa.scalar(None, pa.string()), text) if has_empty else text


def utc_dates(values: pa.Array, focus_name: str) -> pa.Array:
    """The UTC calendar day of each timestamp, as date32."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        missing = pc.is_null(values)
        if pc.any(missing).as_py():
            raise RowError(first_index(missing), focus_name, "is empty; FOCUS requires a value", "")
        return pc.cast(values, pa.date32())
    text = as_text(values)
    try:
        # Fast path: ISO 8601 timestamps with "Z" or an offset, as FOCUS requires.
        return pc.cast(pc.cast(text, pa.timestamp("ns", tz="UTC")), pa.date32())
    except pa.ArrowInvalid:
        pass
    invalid = pc.invert(pc.match_substring_regex(text, TIMESTAMP_RE))
    if pc.any(invalid).as_py():
        index = first_index(invalid)
        value = text[index].as_py()
        reason = "is empty; FOCUS requires a value" if not value else "not a date/time"
        raise RowError(index, focus_name, reason, value)
    # Normalise "YYYY-MM-DD[ hh:mm[:ss]]" to ISO 8601; a timestamp without offset is UTC.
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    text = pc.replace_substring_regex(text, r"\s+(Z|[+-]\d)", r"\1")
    text = pc.if_else(
        pc.match_substring_regex(text, OFFSET_RE), text, pc.binary_join_element_wise(text, "Z", "")
    )
    try:
        return pc.cast(pc.cast(text, pa.timestamp("ns", tz="UTC")), pa.date32())
    except pa.ArrowInvalid:
        _raise_first_bad_date(text, focus_name)


def _raise_first_bad_date(text: pa.Array, focus_name: str):
    for index, value in enumerate(text.to_pylist()):
        try:
            pc.cast(
                pa.array([value]), pa.date32() if len(value) == 10 else pa.timestamp("ns", "UTC")
            )
        except pa.ArrowInvalid:
            raise RowError(index, focus_name, "not a valid date/time", value) from None
    raise RowError(0, focus_name, "not a valid date/time", text[0].as_py())


def parse_tags(values: pa.Array, focus_name: str) -> tuple[pa.Array, dict[str, dict]]:
    """JSON text of each row's tags, and the parsed distinct tag objects."""
    if pa.types.is_map(values.type) or pa.types.is_struct(values.type):
        as_json = []
        for item in values.to_pylist():
            if item is None:
                as_json.append("{}")
                continue
            pairs = item if isinstance(item, list) else item.items()
            as_json.append(json.dumps({str(k): v for k, v in pairs if v is not None}))
        values = pa.array(as_json, pa.string())
    text = as_text(values)
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), "{}", text)
    parsed: dict[str, dict] = {}
    for raw in pc.unique(text).to_pylist():
        try:
            tags = json.loads(raw)
        except ValueError as error:
            raise RowError(
                pc.index(text, raw).as_py(), focus_name, f"not valid JSON ({error.msg})", raw
            ) from None
        if not isinstance(tags, dict):
            raise RowError(pc.index(text, raw).as_py(), focus_name, "not a JSON object", raw)
        if contains_nul(tags):  # an escaped \u0000, which PostgreSQL's jsonb refuses
            raise RowError(pc.index(text, raw).as_py(), focus_name, "contains a NUL character", raw)
        parsed[raw] = tags
    return text, parsed


def column_or_empty(record_batch: pa.RecordBatch, name: str | None) -> pa.Array:
    """The batch's column ``name``, or empty strings when the file has no such column."""
    if name is None:
        return pa.repeat("", record_batch.num_rows).cast(pa.string())
    return record_batch.column(name)


def check_provider(record_batch: pa.RecordBatch, provider_sources: list[str], provider: str):
    """Every row names ``provider`` (the integration's) in its first non-empty provider column."""
    names = as_text(record_batch.column(provider_sources[0]))
    for other in provider_sources[1:]:
        names = pc.if_else(pc.equal(names, ""), as_text(record_batch.column(other)), names)
    for name in pc.unique(names).to_pylist():
        code = provider_code(name) if name else None
        if code == provider:
            continue
        index = pc.index(names, name).as_py()
        column = next(
            (c for c in provider_sources if as_text(record_batch.column(c))[index].as_py() == name),
            provider_sources[0],
        )
        if code is None:
            reason = "unknown provider" if name else "no provider name"
        else:
            reason = f"a row of provider {code} in a {provider} integration"
        raise RowError(index, column, reason, name)
