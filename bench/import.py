"""Benchmark: Costline's FOCUS import against pyarrow writing the same Parquet from the same CSV.

    .venv/bin/python bench/import.py [--rows 1000000] [--file PATH] [--reimport] [--repeat 3]

(Embedded SQLite and a Parquet store in a temporary directory; ``DATABASE_URL`` may name
PostgreSQL instead: the cost rows go to the columnar store either way.)

1. Generates an AWS FOCUS 1.2 CSV of ``--rows`` rows over three months with focus-data-toolkit
   (or reuses ``--file``).
2. Baseline: pyarrow alone streams the CSV (``pyarrow.csv.open_csv``, the same block size as the
   importer) into a zstd Parquet file with the store's columns and types (the FOCUS columns
   renamed and cast: decimals, dates, tags as a map), one row group per 128 Ki rows — the same
   Parquet, without the checks, the AWS dimensions, the per-period split, the rollup, the
   dimension values and the manifest.
3. Imports it with ``costs.services.focus_import`` into a new integration (in a child process, so
   its peak RSS is the import's alone), optionally a second time (``--reimport``: replacing).
4. Repeats 2-3 ``--repeat`` times (alternating), prints rows/s of both, the median ratio and the
   import's peak RSS; cleans up after itself. The machine's other load moves single runs a lot:
   compare medians.
"""

from __future__ import annotations

import argparse
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

MONTHS = [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]


def setup_django():
    import django

    django.setup()


def generate(path: Path, rows: int) -> float:
    from costs.sample_data import write_focus_csv

    started = time.monotonic()
    write_focus_csv(path, "aws", rows=rows, seed=7, months=MONTHS)
    return time.monotonic() - started


def pyarrow_parquet(path: Path, target: Path) -> tuple[int, float]:
    """The baseline: the CSV streamed into the store's Parquet shape by pyarrow alone."""
    import json

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from costs.columnar.schema import SCHEMA
    from costs.focus import (
        CSV_BLOCK_BYTES,
        DATE_COLUMNS,
        MONEY_COLUMNS,
        QUANTITY_COLUMNS,
        TEXT_COLUMNS,
    )

    wide_type = pa.decimal128(38, 18)  # the files' amounts, then rounded to the store's ten places
    sources = {
        name: focus for name, focus in {**MONEY_COLUMNS, **QUANTITY_COLUMNS, **DATE_COLUMNS}.items()
    }
    sources.update({name: columns[0] for name, columns in TEXT_COLUMNS.items()})
    started = time.monotonic()
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=pa_csv.ConvertOptions(column_types={}, strings_can_be_null=False),
    )
    rows = 0
    with pq.ParquetWriter(target, SCHEMA, compression="zstd") as writer:
        for batch in reader:
            columns = []
            for field in SCHEMA:
                name = field.name
                focus = sources.get(name)
                if name in ("organization_id", "integration_id"):
                    values = pa.repeat("00000000-0000-0000-0000-000000000000", batch.num_rows)
                elif name == "provider":
                    values = pa.repeat("aws", batch.num_rows)
                elif name == "tags":
                    maps = [
                        [
                            (
                                key,
                                value
                                if value is None or isinstance(value, str)
                                else json.dumps(value),
                            )
                            for key, value in json.loads(text or "{}").items()
                        ]
                        for text in batch.column("Tags").to_pylist()
                    ]
                    values = pa.array(maps, field.type)
                elif focus is None or focus not in batch.schema.names:
                    values = pa.repeat("", batch.num_rows)
                elif name in DATE_COLUMNS:
                    values = pc.cast(
                        pc.utf8_slice_codeunits(pc.cast(batch.column(focus), pa.string()), 0, 10),
                        pa.date32(),
                    )
                elif name in MONEY_COLUMNS or name in QUANTITY_COLUMNS:
                    text = pc.cast(batch.column(focus), pa.string())
                    wide = pc.cast(pc.if_else(pc.equal(text, ""), None, text), wide_type)
                    values = pc.round(wide, ndigits=10, round_mode="half_towards_infinity")
                    if not field.nullable:
                        values = pc.fill_null(values, pa.scalar(0, field.type))
                else:
                    values = pc.fill_null(pc.cast(batch.column(focus), pa.string()), "")
                columns.append(pc.cast(values, field.type))
            table = pa.Table.from_arrays(columns, schema=SCHEMA)
            writer.write_table(table, row_group_size=128 * 1024)
            rows += table.num_rows
    return rows, time.monotonic() - started


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

    with tempfile.TemporaryDirectory(prefix="costline-bench-") as directory:
        if "DATABASE_URL" not in os.environ:
            os.environ["DATABASE_URL"] = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        os.environ["COSTLINE_COLUMNAR_ROOT"] = str(Path(directory) / "columnar")
        # The refreshes an import queues are not the import: queue them in memory, never run.
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

        from costs.services import integration_create
        from organizations.services import organization_create

        path = args.file
        if path is None:
            path = Path(directory) / "focus_aws.csv"
            print(f"generating {args.rows:,} rows with focus-data-toolkit ...", flush=True)
            seconds = generate(path, args.rows)
            print(f"  {path.stat().st_size / 1e6:,.0f} MB in {seconds:,.1f} s", flush=True)

        ratios = []
        for attempt in range(1, args.repeat + 1):
            print(f"run {attempt}/{args.repeat}: pyarrow CSV -> Parquet ...", flush=True)
            raw_rows, raw_seconds = pyarrow_parquet(path, Path(directory) / "baseline.parquet")
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
            f"ratio import / pyarrow CSV -> Parquet: median {statistics.median(ratios):.2f}x "
            f"(runs: {', '.join(f'{ratio:.2f}' for ratio in ratios)}; target <= 1.5x)"
        )


if __name__ == "__main__":
    main()
