"""Monthly partitions of the cost-row table on PostgreSQL.

``costs_costrow`` is range-partitioned by ``charge_period_start`` (migration 0003), one partition
per calendar month and no default partition, so every row lives in its month. A partition is
created on demand, inside the caller's transaction, before the first row of its month is
written: ``CREATE TABLE ... (LIKE ...)`` then ``ATTACH PARTITION``, which locks the parent only in
SHARE UPDATE EXCLUSIVE mode, so readers and other imports writing existing months never wait.
On other databases (SQLite) the table is a plain table and these functions do nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connections, transaction

TABLE = "costs_costrow"


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def is_partitioned(using: str = "default") -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def _missing(cursor, months: list[date]) -> list[date]:
    cursor.execute(
        "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL",
        [[partition_name(month) for month in months]],
    )
    missing = {row[0] for row in cursor.fetchall()}
    return [month for month in months if partition_name(month) in missing]


def ensure_month_partitions(months: Iterable[date], using: str = "default") -> list[date]:
    """Create the partitions of ``months`` that do not exist yet; return the months created."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    wanted = sorted({month.replace(day=1) for month in months})
    if not wanted:
        return []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if not _missing(cursor, wanted) or not is_partitioned(using):
            return []
        # Serialises concurrent creators; checked again because another one may have just won.
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE")
        created = _missing(cursor, wanted)
        for month in created:
            name = partition_name(month)
            cursor.execute(
                f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                "INCLUDING STORAGE)"
            )
            cursor.execute(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next_month(month).isoformat()}')"
            )
    return created
