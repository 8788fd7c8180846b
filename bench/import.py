"""Benchmark: Costline's FOCUS import against a raw PostgreSQL COPY of the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/costline_bench \\
        .venv/bin/python bench/import.py [--rows 1000000] [--file PATH] [--reimport]

1. Generates an AWS FOCUS 1.2 CSV of ``--rows`` rows over three months with focus-data-toolkit
   (or reuses ``--file``).
2. Loads it with a plain ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` into a bare table with one
   typed column per FOCUS column (numeric, timestamptz, jsonb, text) and no index or key.
3. Imports it with ``costs.services.focus_import`` into a new integration (in a child process, so
   its peak RSS is the import's alone), optionally a second time (``--reimport``: replacing).
4. Repeats 2-3 ``--repeat`` times (alternating), prints rows/s of both, the median ratio and the
   import's peak RSS; cleans up after itself. The machine's other load moves single runs a lot:
   compare medians.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RAW_TABLE = "bench_raw_focus"
MONTHS = [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]
NUMERIC = {
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "PricingQuantity",
    "ConsumedQuantity",
    "CommitmentDiscountQuantity",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
}
TIMESTAMPS = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
JSON = {"Tags", "SkuPriceDetails", "ContractApplied", "AllocatedMethodDetails", "AllocatedTags"}


def setup_django():
    import django

    django.setup()


def generate(path: Path, rows: int) -> float:
    from costs.sample_data import write_focus_csv

    started = time.monotonic()
    write_focus_csv(path, "aws", rows=rows, seed=7, months=MONTHS)
    return time.monotonic() - started


def raw_copy(path: Path) -> tuple[int, float]:
    from django.db import connection

    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))

    def column_type(name: str) -> str:
        if name in NUMERIC:
            return "numeric"
        if name in TIMESTAMPS:
            return "timestamptz"
        if name in JSON:
            return "jsonb"
        return "text"

    columns = ", ".join(f'"{name}" {column_type(name)}' for name in header)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        cursor.execute(f"CREATE TABLE {RAW_TABLE} ({columns})")
    started = time.monotonic()
    sql = f"COPY {RAW_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)"
    with connection.cursor() as cursor:
        with cursor.copy(sql) as copy, open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                copy.write(chunk)
        seconds = time.monotonic() - started
        cursor.execute(f"SELECT count(*) FROM {RAW_TABLE}")
        count = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return count, seconds


def _import_in_child(path: str, organization_id: str, integration_id: str, queue) -> None:
    setup_django()
    from costs.models import Integration
    from costs.services import focus_import

    integration = Integration.objects.get(pk=integration_id)
    started = time.monotonic()
    result = focus_import(integration, path)
    seconds = time.monotonic() - started
    queue.put(
        {
            "rows": result.rows_written,
            "replaced": result.rows_replaced,
            "seconds": seconds,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def costline_import(path: Path, integration) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(
        target=_import_in_child,
        args=(str(path), str(integration.organization_id), str(integration.pk), queue),
    )
    child.start()
    outcome = queue.get()
    child.join()
    if child.exitcode:
        raise SystemExit(f"import failed with exit code {child.exitcode}")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="reuse this FOCUS CSV instead of generating one")
    parser.add_argument("--reimport", action="store_true", help="also time a replacing re-import")
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times")
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: the benchmark compares COPYs.")
    call_command("migrate", verbosity=0)

    from costs.services import integration_create
    from organizations.services import organization_create

    with tempfile.TemporaryDirectory(prefix="costline-bench-") as directory:
        path = args.file
        if path is None:
            path = Path(directory) / "focus_aws.csv"
            print(f"generating {args.rows:,} rows with focus-data-toolkit ...", flush=True)
            seconds = generate(path, args.rows)
            print(f"  {path.stat().st_size / 1e6:,.0f} MB in {seconds:,.1f} s", flush=True)

        ratios = []
        for attempt in range(1, args.repeat + 1):
            print(f"run {attempt}/{args.repeat}: raw COPY into a bare table ...", flush=True)
            raw_rows, raw_seconds = raw_copy(path)
            rate = raw_rows / raw_seconds
            print(f"  {raw_rows:,} rows in {raw_seconds:,.1f} s = {rate:,.0f} rows/s")
            organization = organization_create(f"bench {time.strftime('%Y-%m-%d %H:%M:%S')}")
            integration = integration_create(organization, "aws", "bench")
            try:
                print(
                    f"run {attempt}/{args.repeat}: Costline import (focus_import) ...", flush=True
                )
                outcome = costline_import(path, integration)
                ratios.append(outcome["seconds"] / raw_seconds)
                print(
                    f"  {outcome['rows']:,} rows in {outcome['seconds']:,.1f} s = "
                    f"{outcome['rows'] / outcome['seconds']:,.0f} rows/s; peak RSS "
                    f"{outcome['maxrss_mb']:,.0f} MB; ratio {ratios[-1]:.2f}x"
                )
                if args.reimport:
                    print("  re-import (replaces the same periods) ...", flush=True)
                    again = costline_import(path, integration)
                    print(
                        f"  {again['rows']:,} rows ({again['replaced']:,} replaced) in "
                        f"{again['seconds']:,.1f} s = "
                        f"{again['rows'] / again['seconds']:,.0f} rows/s; "
                        f"peak RSS {again['maxrss_mb']:,.0f} MB"
                    )
            finally:
                organization.delete()
        print(
            f"ratio import / raw COPY: median {statistics.median(ratios):.2f}x "
            f"(runs: {', '.join(f'{ratio:.2f}' for ratio in ratios)}; target <= 1.5x)"
        )


if __name__ == "__main__":
    main()
