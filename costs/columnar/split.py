"""Splitting a cost row into lines that take shares of it, exactly (virtual tags, partial
segment allocation).

A query gives each row ``shares``, an array of ``(label, share)`` tuples, and ``ARRAY JOIN``s
``arrayEnumerate(shares) AS share_index``; ``split_sql`` is then a column's part on that line:
every line but the last takes ``amount × share`` truncated to the store's 10 decimal places, the
last takes the amount minus the others. The lines of a row add up to the row to the last digit,
so no total ever gains or loses a cent, whatever the shares.
"""

from __future__ import annotations

SHARE_TYPE = "Decimal64(12)"
SHARES = "split_shares"
SHARE_INDEX = "split_index"


def split_sql(column: str, type_name: str) -> str:
    """``column`` (of ClickHouse type ``type_name``) on line ``SHARE_INDEX`` of ``SHARES``."""
    nullable = type_name.startswith("Nullable(")
    base = type_name[len("Nullable(") : -1] if nullable else type_name
    value = f"assumeNotNull({column})" if nullable else column
    others = (
        f"arraySum(arrayMap(s -> toDecimal128({value} * tupleElement(s, 2), 10), "
        f"arraySlice({SHARES}, 1, length({SHARES}) - 1)))"
    )
    part = (
        f"if({SHARE_INDEX} = length({SHARES}), {value} - {others}, "
        f"toDecimal128({value} * tupleElement({SHARES}[{SHARE_INDEX}], 2), 10))"
    )
    split = f"if(length({SHARES}) = 1, {value}, CAST({part} AS {base}))"
    if nullable:
        split = f"if(isNull({column}), NULL, {split})"
    return f"{split} AS {column}"


def split_rows(
    source: str,
    shares_sql: str,
    amounts: dict[str, str],
    replaced: list[str] = (),
    added: list[str] = (),
) -> str:
    """``source``'s rows, one per (label, share) of ``shares_sql``, with ``amounts`` (column:
    type) split, columns ``replaced`` and columns ``added`` (``expr AS column``; they may read
    ``line_label()``, the line's label)."""
    columns = [split_sql(column, type_name) for column, type_name in amounts.items()]
    extra = "".join(f", {expression}" for expression in added)
    return (
        f"(SELECT * EXCEPT ({SHARES}, {SHARE_INDEX}) REPLACE ({', '.join([*columns, *replaced])})"
        f"{extra} FROM (SELECT *, {shares_sql} AS {SHARES} FROM {source}) "
        f"ARRAY JOIN arrayEnumerate({SHARES}) AS {SHARE_INDEX})"
    )


def line_label() -> str:
    """The label of the line a row of ``split_rows`` is (in its ``replaced`` expressions)."""
    return f"tupleElement({SHARES}[{SHARE_INDEX}], 1)"
