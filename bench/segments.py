"""Benchmark: segment metrics (one grouped CASE query per tree) vs a hand-written SQL GROUP BY.

Usage (PostgreSQL; drops and re-creates the database named by --database):

    .venv/bin/python bench/segments.py [--rows 1000000] [--database costline_segbench]

It loads N synthetic cost rows with COPY, builds a tree of 21 segments (1 top, 4 children,
16 grandchildren, overlapping filters), then times in the same run:
  * ours: ``segments.services.segment_tree_refresh`` (daily + monthly metrics, written back);
  * baseline: the same figures by hand-written SQL ``GROUP BY`` (daily, then monthly), not
    written back;
and prints both and their ratio. It then repeats ours with a 5-segment tree over the same
rows, to show that time follows rows, not rows × segments (run two --rows sizes for rows).
"""

import argparse
import io
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICES = [
    "AmazonEC2",
    "AmazonS3",
    "AmazonRDS",
    "AWSLambda",
    "AmazonEKS",
    "AmazonCloudFront",
    "AmazonDynamoDB",
    "AmazonSQS",
    "AmazonSNS",
    "AmazonRedshift",
]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]
ENVS = ["prod", "staging", "dev", "test"]
TEAMS = ["data", "web", "payments", "platform"]
KINDS = [
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Tax", ""),
    ("Credit", ""),
    ("Purchase", ""),
    ("Usage", "Correction"),
]


def setup(database: str):
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_rows(organization, integration, rows: int, seed: int = 7) -> None:
    from django.db import connection

    from costs.partitions import ensure_month_partitions

    start = date(2026, 8, 1)
    days = [start + timedelta(days=i) for i in range(90)]
    ensure_month_partitions(days)
    rng = random.Random(seed)
    columns = (
        "organization_id",
        "integration_id",
        "provider",
        "billing_account_id",
        "billing_account_name",
        "sub_account_id",
        "sub_account_name",
        "service_name",
        "service_category",
        "service_subcategory",
        "region_id",
        "resource_id",
        "resource_type",
        "sku_id",
        "charge_category",
        "charge_class",
        "charge_description",
        "pricing_category",
        "commitment_discount_id",
        "commitment_discount_type",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "contracted_cost",
        "pricing_quantity",
        "pricing_unit",
        "consumed_quantity",
        "consumed_unit",
        "billing_currency",
        "charge_period_start",
        "billing_period_start",
        "tags",
        "operating_system",
        "tenancy",
        "instance_family",
    )
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            f"COPY costs_costrow ({', '.join(columns)}) FROM STDIN"
        ) as copy,
    ):
        buffer = io.StringIO()
        for index in range(rows):
            day = days[index % len(days)]
            category, charge_class = KINDS[rng.randrange(len(KINDS))]
            cost = round(rng.uniform(-1, 40) if category == "Credit" else rng.uniform(0, 40), 4)
            committed = rng.random() < 0.3
            tags = json.dumps({"env": rng.choice(ENVS), "team": rng.choice(TEAMS)})
            values = (
                organization.pk,
                integration.pk,
                "aws",
                "100000000001",
                "payer",
                f"2000000000{rng.randrange(20):02d}",
                "account",
                rng.choice(SERVICES),
                "Compute",
                "",
                rng.choice(REGIONS),
                f"res-{rng.randrange(20000)}",
                "",
                "sku",
                category,
                charge_class,
                "",
                "Committed" if committed else "Standard",
                "ri-1" if committed else "",
                "",
                cost,
                round(cost * 0.8, 4),
                round(cost * 1.2, 4),
                cost,
                1,
                "Hours",
                1,
                "Hours",
                "USD",
                day,
                day.replace(day=1),
                tags,
                "",
                "",
                "",
            )
            buffer.write("\t".join(str(v) for v in values) + "\n")
            if index % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE costs_costrow")


def build_tree(organization, children: int, grandchildren: int):
    from segments.filter_tree import parse_vql
    from segments.services import segment_create

    aws = "costs.provider = 'aws'"
    top = segment_create(
        organization, name="All AWS", filter_tree=parse_vql(aws), track_unallocated=True
    )
    specs = []
    for index, env in enumerate(ENVS[:children]):
        child_vql = f"{aws} AND tags.name = 'env' AND tags.value = '{env}'"
        child = segment_create(
            organization,
            name=env,
            parent=top,
            priority=index,
            filter_tree=parse_vql(child_vql),
            track_unallocated=True,
        )
        grand = []
        for g_index, service in enumerate(SERVICES[index : index + grandchildren]):
            segment_create(
                organization,
                name=f"{env}/{service}",
                parent=child,
                priority=g_index,
                filter_tree=parse_vql(f"{aws} AND costs.service = '{service}'"),
            )
            grand.append(service)
        specs.append((env, grand))
    return top, specs


def baseline_sql(organization, specs) -> tuple[float, float]:
    """One hand-written GROUP BY with the same labels: the best a person would write."""
    from django.db import connection

    whens = []
    for env, services in specs:
        env_condition = f"(tags ->> 'env') = '{env}'"
        for service in services:
            whens.append(
                f"WHEN {env_condition} AND service_name = '{service}' THEN '{env}/{service}'"
            )
        whens.append(f"WHEN {env_condition} THEN '{env}'")
    sql = f"""
        SELECT CASE {" ".join(whens)} ELSE 'top' END AS line, charge_period_start,
               CASE WHEN charge_class = 'Correction' THEN 'refund' WHEN charge_category = 'Credit'
                    THEN 'credit' WHEN charge_category = 'Tax' THEN 'tax'
                    WHEN charge_category = 'Purchase' THEN 'purchase' ELSE 'usage' END AS kind,
               SUM(billed_cost), SUM(effective_cost), SUM(list_cost),
               SUM(list_cost) FILTER (WHERE charge_category = 'Usage'),
               SUM(effective_cost) FILTER (WHERE commitment_discount_id <> ''),
               COUNT(DISTINCT resource_id) FILTER (WHERE charge_category = 'Usage')
        FROM costs_costrow WHERE organization_id = %s AND provider = 'aws'
        GROUP BY 1, 2, 3
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql.format(period="charge_period_start"), [organization.pk])
        daily = cursor.fetchall()
        # Distinct resource counts do not add up across days, so months need their own pass.
        cursor.execute(
            sql.format(period="date_trunc('month', charge_period_start)"), [organization.pk]
        )
        cursor.fetchall()
    elapsed = time.perf_counter() - started
    return elapsed, float(sum(row[3] for row in daily))


def ours(top) -> float:
    from segments.services import segment_tree_refresh

    started = time.perf_counter()
    segment_tree_refresh(top.pk)
    return time.perf_counter() - started


def our_total(top) -> float:
    from django.db.models import Sum

    from segments.models import SegmentMetric

    return float(
        SegmentMetric.objects.filter(segment=top, line="total", granularity="day").aggregate(
            total=Sum("billed_cost")
        )["total"]
        or 0
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="costline_segbench")
    args = parser.parse_args()
    setup(args.database)
    from costs.models import Integration
    from organizations.services import organization_create
    from segments.models import Segment

    organization = organization_create("Bench")
    integration = Integration.objects.create(organization=organization, provider="aws", name="b")
    started = time.perf_counter()
    load_rows(organization, integration, args.rows)
    print(f"loaded {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    Segment.objects.all().delete()
    top, specs = build_tree(organization, children=4, grandchildren=4)
    count = Segment.objects.filter(organization=organization).count()
    ours_20 = ours(top)
    base, base_total = baseline_sql(organization, specs)
    print(f"tree of {count} segments, {args.rows:,} rows")
    print(f"  ours (daily + monthly, written): {ours_20:7.2f} s")
    print(f"  hand-written SQL GROUP BY (daily + monthly, not written): {base:7.2f} s")
    print(f"  ratio ours / baseline: {ours_20 / base:.2f}x")
    print(
        f"  billed totals agree: {abs(our_total(top) - base_total) < 0.01} "
        f"({our_total(top):,.2f} vs {base_total:,.2f})"
    )
    Segment.objects.all().delete()
    small, _ = build_tree(organization, children=2, grandchildren=1)
    count_small = Segment.objects.filter(organization=organization).count()
    ours_5 = ours(small)
    print(
        f"tree of {count_small} segments, same rows: {ours_5:.2f} s "
        f"(segments x{count / count_small:.1f} -> time x{ours_20 / ours_5:.2f})"
    )


if __name__ == "__main__":
    main()
