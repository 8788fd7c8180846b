"""Benchmark: recompute cost to serve for 10,000 customers over a month.

Usage (embedded SQLite and a Parquet store under ``var/bench/cost_to_serve``, re-created):

    .venv/bin/python bench/cost_to_serve.py [--customers 10000] [--rows 200000] [--rounds 3]

It imports N generated AWS FOCUS rows (``costs.sample_data``, cached as
``var/bench/aws-<rows>.parquet``), makes a segment over them (``costs.provider = 'aws'``,
refreshed by the segments engine), creates the customers and a business metric labelled by
customer with one value per customer and day of September 2026 (random, some customers idle
some days), also written to a Parquet file. Each round then times:

- **Costline**: ``business.cost_to_serve.cost_to_serve`` for September: the segment's daily
  cost, the metric's 300,000 daily values read from the database, the exact split, the
  largest-remainder rounding to cents, the customer look-up;
- **baseline**: one DuckDB query computing the same exact per-customer figures (daily usage
  shares × the day's cost summed from the FOCUS Parquet file), timed until its rows are Python
  values.

Both must agree (every customer within a millionth of a cent, and the rounded lines must add up
to the total) or the run aborts. It prints the medians and the ratio.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample import focus_file  # noqa: E402

SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
DUCK_SQL = """
    WITH cost AS (
        SELECT CAST(ChargePeriodStart AS DATE) AS day,
               sum(CAST(EffectiveCost AS DECIMAL(38, 10))) AS cost
        FROM read_parquet('{focus}')
        WHERE CAST(ChargePeriodStart AS DATE) BETWEEN DATE '2026-09-01' AND DATE '2026-09-30'
          AND coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
        GROUP BY 1
    ),
    usage AS (SELECT day, label, amount FROM read_parquet('{usage}') WHERE amount > 0),
    totals AS (SELECT day, sum(amount) AS total FROM usage GROUP BY day)
    SELECT usage.label,
           sum(CAST(cost.cost AS DOUBLE) * CAST(usage.amount AS DOUBLE)
               / CAST(totals.total AS DOUBLE))
    FROM usage JOIN totals USING (day) JOIN cost USING (day)
    GROUP BY usage.label
"""


def setup(directory: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(ROOT / "var" / "bench" / "cost_to_serve")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.COSTLINE_COLUMNAR_ROOT = os.environ["COSTLINE_COLUMNAR_ROOT"]
    call_command("migrate", verbosity=0)


def load(path: Path, customers: int, directory: Path):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from business.models import BusinessMetric, BusinessMetricValue
    from costs.columnar.store import store_root
    from costs.services import focus_import, integration_create
    from metrics.models import Customer
    from organizations.services import organization_create
    from segments.filter_tree import parse_vql
    from segments.services import segment_create

    shutil.rmtree(store_root(), ignore_errors=True)
    organization = organization_create("Cost to serve bench")
    started = time.perf_counter()
    written = focus_import(integration_create(organization, "aws", "AWS payer"), path).rows_written
    segment = segment_create(
        organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
    )
    print(f"imported {written:,} rows, segment refreshed in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    Customer.objects.bulk_create(
        [
            Customer(organization=organization, name=f"Customer {n:05d}", external_id=f"c{n:05d}")
            for n in range(customers)
        ],
        batch_size=5000,
    )
    metric = BusinessMetric.objects.create(organization=organization, title="API calls")
    rng = random.Random(5)
    days = [SEPTEMBER[0] + timedelta(days=n) for n in range((SEPTEMBER[1] - SEPTEMBER[0]).days + 1)]
    values = []
    for n in range(customers):
        for day in days:
            if rng.random() < 0.9:  # a tenth of the customer-days without usage
                values.append((day, f"c{n:05d}", Decimal(rng.randrange(1, 100_000)) / 100))
    BusinessMetricValue.objects.bulk_create(
        [
            BusinessMetricValue(metric=metric, date=d, label=label, amount=a)
            for d, label, a in values
        ],
        batch_size=5000,
    )
    usage = directory / "usage.parquet"
    pq.write_table(
        pa.table(
            {
                "day": pa.array([d for d, _, _ in values], type=pa.date32()),
                "label": pa.array([label for _, label, _ in values]),
                "amount": pa.array([a for _, _, a in values], type=pa.decimal128(28, 10)),
            }
        ),
        usage,
    )
    print(
        f"{customers:,} customers, {len(values):,} daily values in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return segment, metric, usage


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--file", help="a FOCUS file instead of the generated one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        setup(directory)
        import duckdb

        from business.cost_to_serve import CENT, cost_to_serve, segment_source

        path = focus_file(args.rows, args.file)
        segment, metric, usage = load(path, args.customers, directory)
        source = segment_source(segment)
        costline, baseline = [], []
        for round_number in range(args.rounds):
            started = time.perf_counter()
            split = cost_to_serve(source, metric, *SEPTEMBER)
            costline.append(time.perf_counter() - started)

            started = time.perf_counter()
            reference = dict(duckdb.sql(DUCK_SQL.format(focus=path, usage=usage)).fetchall())
            baseline.append(time.perf_counter() - started)

            assert len(split.customers) == len(reference) == args.customers, "customer count"
            for line in split.customers:
                expected = Decimal(str(reference[line.key]))
                assert abs(line.exact_cost - expected) < Decimal("1e-6"), line.key
                assert abs(line.cost - line.exact_cost) <= CENT
            assert sum(line.cost for line in split.lines) == split.total, "lines must add up"
            print(
                f"round {round_number + 1}: Costline {costline[-1]:.2f} s, "
                f"DuckDB {baseline[-1]:.2f} s (total {split.total} {split.currency})"
            )
        ours, theirs = statistics.median(costline), statistics.median(baseline)
        print(
            f"median of {args.rounds}: Costline {ours:.2f} s, DuckDB baseline {theirs:.2f} s, "
            f"ratio {ours / theirs:.1f}x"
        )


if __name__ == "__main__":
    main()
