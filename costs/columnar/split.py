"""Splitting a cost row into lines that take shares of it, exactly (virtual tags, partial
segment allocation).

A query gives each row ``shares``: an array of ``(label, lower, upper)`` tuples whose bounds
cut [0, 1] into consecutive pieces (a line's share is ``upper - lower``; the first starts at 0,
the last ends at 1). ``split_rows`` makes one row per piece, and a column's part on a line is

    trunc(amount × upper) - trunc(amount × lower)      (trunc: to the store's 10 places)

so the lines of a row telescope to ``trunc(amount × 1) - trunc(amount × 0)``, the amount
itself, to the last digit: no total ever gains or loses a cent, whatever the shares, and each
line is within 1e-10 of ``amount × share``. Two multiplications per line, no array arithmetic:
splitting costs about what reading the row does.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

SHARE_TYPE = "Decimal64(12)"
LINE = "split_line"
SHARES = "split_shares"
SHARE_STEP = Decimal("1e-12")


def cumulative(pairs: Iterable[tuple[object, Decimal]]) -> list[tuple[object, Decimal, Decimal]]:
    """(label, share) pairs as (label, lower, upper) pieces of [0, 1] (shares summing to 1; the
    last piece ends at exactly 1, whatever the rounding of the shares before it)."""
    pieces, lower = [], Decimal(0)
    pairs = list(pairs)
    for index, (label, share) in enumerate(pairs):
        upper = Decimal(1) if index == len(pairs) - 1 else (lower + share).quantize(SHARE_STEP)
        pieces.append((label, lower, upper))
        lower = upper
    return pieces


def split_sql(column: str, type_name: str) -> str:
    """``column`` (of ClickHouse type ``type_name``) on the line ``LINE`` of a split row."""
    nullable = type_name.startswith("Nullable(")
    base = type_name[len("Nullable(") : -1] if nullable else type_name
    value = f"assumeNotNull({column})" if nullable else column
    lower, upper = f"tupleElement({LINE}, 2)", f"tupleElement({LINE}, 3)"
    part = (
        f"CAST(toDecimal128({value} * {upper}, 10) - toDecimal128({value} * {lower}, 10) AS {base})"
    )
    # A whole row (the piece [0, 1]) is the amount itself: no arithmetic for most rows.
    part = f"if({lower} = 0 AND {upper} = 1, {value}, {part})"
    if nullable:
        part = f"if(isNull({column}), NULL, {part})"
    return f"{part} AS {column}"


def split_rows(
    source: str,
    shares_sql: str,
    amounts: dict[str, str],
    replaced: list[str] = (),
    added: list[str] = (),
) -> str:
    """``source``'s rows, one per piece of ``shares_sql``, with ``amounts`` (column: type) split
    and columns ``replaced`` and ``added`` (``expr AS column``; they may read ``line_label()``,
    the line's label)."""
    columns = [split_sql(column, type_name) for column, type_name in amounts.items()]
    extra = "".join(f", {expression}" for expression in added)
    return (
        f"(SELECT * EXCEPT ({SHARES}, {LINE}) REPLACE ({', '.join([*columns, *replaced])})"
        f"{extra} FROM (SELECT *, {shares_sql} AS {SHARES} FROM {source}) "
        f"ARRAY JOIN {SHARES} AS {LINE})"
    )


def line_label() -> str:
    """The label of the line a row of ``split_rows`` is (in its ``replaced`` expressions)."""
    return f"tupleElement({LINE}, 1)"


def line_share() -> str:
    """The share of its row a line of ``split_rows`` takes."""
    return f"(tupleElement({LINE}, 3) - tupleElement({LINE}, 2))"
