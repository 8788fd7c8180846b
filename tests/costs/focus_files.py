"""Small FOCUS files for the cost tests, and independent sums over them computed by DuckDB."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from costs.sample_data import write_focus_csv, write_focus_parquet

MONTHS = [date(2026, 8, 1), date(2026, 9, 1)]
METRICS = {"billed_cost": "BilledCost", "effective_cost": "EffectiveCost", "list_cost": "ListCost"}


def generate(
    directory: Path,
    provider: str,
    *,
    rows: int = 1200,
    seed: int = 1,
    months=MONTHS,
    focus_version: str = "1.2",
    suffix: str = ".csv",
) -> Path:
    name = f"focus_{provider}_{focus_version.replace('.', '')}_{seed}_{rows}{suffix}"
    path = directory / name
    if path.exists():
        return path
    if suffix == ".parquet":
        return write_focus_parquet(
            path, provider, rows=rows, seed=seed, months=months, focus_version=focus_version
        )
    return write_focus_csv(
        path, provider, rows=rows, seed=seed, months=months, focus_version=focus_version
    )


def _relation(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', all_varchar=true, header=true)"


def _month(path: Path) -> str:
    if path.suffix == ".parquet":
        return "strftime(make_timestamp(epoch_us(ChargePeriodStart)), '%Y-%m-01')"
    return "substr(ChargePeriodStart, 1, 7) || '-01'"


def monthly_totals(path: Path) -> dict[date, dict[str, Decimal]]:
    """Per charge month: the sums of BilledCost, EffectiveCost and ListCost, by DuckDB."""
    sums = ", ".join(f"sum(CAST({column} AS DECIMAL(38, 10)))" for column in METRICS.values())
    query = f"SELECT {_month(path)} AS month, {sums} FROM {_relation(path)} GROUP BY 1 ORDER BY 1"
    return {
        date.fromisoformat(month): dict(zip(METRICS, (Decimal(v) for v in values), strict=True))
        for month, *values in duckdb.sql(query).fetchall()
    }


def distinct_values(path: Path, column: str) -> set[str]:
    query = (
        f"SELECT DISTINCT {column} FROM {_relation(path)} "
        f"WHERE {column} IS NOT NULL AND {column} <> ''"
    )
    return {row[0] for row in duckdb.sql(query).fetchall()}


def rewrite_csv(source: Path, target: Path, change) -> Path:
    """Copy a CSV, letting ``change(header, rows)`` edit the header and rows (lists) in place."""
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    change(header, rows)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return target
