"""Benchmark of usage events on PostgreSQL: ingestion throughput and usage-query latency.

    .venv/bin/python bench/events.py                       # 1,000,000 ingested, 10,000,000 queried
    .venv/bin/python bench/events.py --ingest-events 200000 --query-events 2000000

It works in a database of its own (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/costline_bench``), dropped and re-created at the start.

1. Ingestion: the events, in batches of 500, through ``metrics.services.events_ingest`` (the
   code behind ``POST /api/v1/events/ingest``: validation, customer lookup, idempotent insert,
   dirty-day marks, one transaction per batch); then the same events as plain multi-row INSERTs
   into an identical, empty copy of the events table. Prints events/s for both and the ratio.
2. Usage query: another organization gets ``--query-events`` events (written by SQL), they are
   materialized into daily aggregates (timed too), then a month of usage for one customer is
   asked ``--queries`` times, through the selector and through the HTTP API. Prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = ["eu", "us", "apac", "sa"]
RESOURCES = 20
MONTH_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
MONTH_SECONDS = 31 * 86400


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ingest-events", type=int, default=1_000_000)
    parser.add_argument("--query-events", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/costline_bench"
        ),
    )
    return parser.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Tasks stay in process memory: nothing reaches a real broker or worker during the run.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def catalogue(name: str, customers: int):
    from metrics import services
    from organizations import services as org_services

    organization = org_services.organization_create(name)
    family = services.product_family_create(organization, name="API")
    metric = services.metric_create(
        organization,
        name="API requests",
        code="api_calls",
        aggregation_type="SUM",
        aggregation_key="n",
        product_family_id=family.pk,
        segmentation_matrix={"key": "region", "values": REGIONS},
        usage_group_key="resource",
    )
    people = [
        services.customer_create(organization, name=f"Customer {i}", external_id=f"ext-{i}")
        for i in range(customers)
    ]
    return organization, metric, people


def make_events(count: int, customers: list) -> list[dict]:
    """Deterministic events spread over January 2026; half name the customer by external id."""
    events = []
    for n in range(count):
        customer = customers[n % len(customers)]
        moment = MONTH_START + datetime.timedelta(seconds=(n * 7919) % MONTH_SECONDS)
        events.append(
            {
                "id": f"evt-{n}",
                "code": "api_calls",
                "customer_id": customer.external_id if n % 2 else customer.pk,
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
                "properties": {
                    "n": 1 + n % 10,
                    "region": REGIONS[(n // 7) % len(REGIONS)],
                    "resource": f"r{(n // len(customers)) % RESOURCES}",
                },
            }
        )
    return events


def bench_service_ingest(organization, events: list[dict], batch: int) -> float:
    from metrics import services

    started = time.perf_counter()
    for offset in range(0, len(events), batch):
        result = services.events_ingest(organization, events[offset : offset + batch])
        assert not result.rejected, result.rejected[:3]
    return time.perf_counter() - started


def bench_raw_insert(organization, events: list[dict], customers: list, batch: int) -> float:
    """Plain multi-row INSERTs of the same rows into an identical empty table (same indexes)."""
    from django.db import connection

    by_reference = {c.pk: c.pk for c in customers} | {c.external_id: c.pk for c in customers}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_events")
        cursor.execute("CREATE TABLE bench_raw_events (LIKE metrics_usageevent INCLUDING ALL)")
    columns = "organization_id, event_id, code, customer_id, timestamp, properties, ingested_at"
    now = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for offset in range(0, len(events), batch):
            chunk = events[offset : offset + batch]
            params: list = []
            for event in chunk:
                params += [
                    organization.pk,
                    event["id"],
                    event["code"],
                    by_reference[event["customer_id"]],
                    event["timestamp"],
                    json.dumps(event["properties"]),
                    now,
                ]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s::jsonb, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO bench_raw_events ({columns}) VALUES {placeholders}", params
            )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw_events")
    return elapsed


def fill_events_by_sql(organization, customers: list, count: int) -> float:
    """Write ``count`` events straight into the events table, a million per statement."""
    from django.db import connection

    ids = [c.pk for c in customers]
    started = time.perf_counter()
    chunk = 1_000_000
    with connection.cursor() as cursor:
        for first in range(0, count, chunk):
            last = min(first + chunk, count) - 1
            cursor.execute(
                """
                INSERT INTO metrics_usageevent
                    (organization_id, event_id, code, customer_id, timestamp, properties,
                     ingested_at)
                SELECT %s, 'q' || g, 'api_calls', (%s::text[])[1 + g %% %s],
                       %s::timestamptz + make_interval(secs => (g * 7919) %% %s),
                       jsonb_build_object(
                           'n', 1 + g %% 10,
                           'region', (%s::text[])[1 + (g / 7) %% 4],
                           'resource', 'r' || ((g / %s) %% %s)),
                       now()
                FROM generate_series(%s::bigint, %s::bigint) AS g
                """,
                [
                    organization.pk,
                    ids,
                    len(ids),
                    MONTH_START,
                    MONTH_SECONDS,
                    REGIONS,
                    len(ids),
                    RESOURCES,
                    first,
                    last,
                ],
            )
            print(f"  wrote {last + 1:,} events", flush=True)
        # What ingestion would have marked: every (customer, day) is to be materialized.
        cursor.execute(
            """
            INSERT INTO metrics_usagedirtyday (organization_id, code, customer_id, day, marked_at)
            SELECT DISTINCT organization_id, code, customer_id,
                   (timestamp AT TIME ZONE 'UTC')::date, now()
            FROM metrics_usageevent WHERE organization_id = %s
            """,
            [organization.pk],
        )
        cursor.execute("ANALYZE metrics_usageevent")
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000}


def bench_queries(organization, metric, customers: list, queries: int) -> dict:
    from django.db import connection
    from rest_framework.test import APIClient

    from metrics import selectors, services
    from organizations import services as org_services

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE metrics_usagedaily")
    _, secret = org_services.api_token_create(organization, name="bench", scopes="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)
    # One warm-up request: the first one of a process pays for lazy imports and URL loading.
    client.get(f"/api/v1/metrics/{metric.pk}/usage?customer_id={customers[0].pk}")
    rng = random.Random(7)
    timings: dict[str, list[float]] = {"selector, month": [], "API, month": [], "API, day": []}
    for _ in range(queries):
        customer = rng.choice(customers)
        began = time.perf_counter()
        # What the usage API does: the range's pending days first (a service), then the read.
        services.usage_refresh(metric, start, end, customer)
        selectors.metric_usage(metric, window="month", start=start, end=end, customers=[customer])
        timings["selector, month"].append(time.perf_counter() - began)
        for window in ("month", "day"):
            began = time.perf_counter()
            response = client.get(
                f"/api/v1/metrics/{metric.pk}/usage?customer_id={customer.external_id}"
                f"&window={window}&from=2026-01-01&to=2026-01-31"
            )
            timings[f"API, {window}"].append(time.perf_counter() - began)
            assert response.status_code == 200, response.content[:300]
    return {name: percentiles(samples) for name, samples in timings.items()}


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from metrics import services
    from metrics.models import UsageDaily

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, {os.cpu_count()} CPUs")

    print(f"1. Ingest {args.ingest_events:,} events in batches of {args.batch}")
    organization, _metric, customers = catalogue("bench ingest", args.customers)
    events = make_events(args.ingest_events, customers)
    service_seconds = bench_service_ingest(organization, events, args.batch)
    raw_seconds = bench_raw_insert(organization, events, customers, args.batch)
    service_rate, raw_rate = len(events) / service_seconds, len(events) / raw_seconds
    print(f"  service layer   {service_rate:>10,.0f} events/s  ({service_seconds:.1f} s)")
    print(f"  raw INSERT      {raw_rate:>10,.0f} events/s  ({raw_seconds:.1f} s)")
    print(f"  ratio           {raw_rate / service_rate:>10.2f}x slower than raw")
    del events

    print(f"2. Usage query over {args.query_events:,} events, {args.customers} customers")
    organization, metric, customers = catalogue("bench query", args.customers)
    fill_seconds = fill_events_by_sql(organization, customers, args.query_events)
    print(f"  events written by SQL in {fill_seconds:.1f} s")
    began = time.perf_counter()
    days = services.usage_materialize_pending(organization_id=organization.pk)
    materialize_seconds = time.perf_counter() - began
    rows = UsageDaily.objects.filter(metric=metric).count()
    print(
        f"  materialized {days:,} customer-days into {rows:,} daily rows in "
        f"{materialize_seconds:.1f} s ({args.query_events / materialize_seconds:,.0f} events/s)"
    )
    print(f"  a month of one customer's usage, {args.queries} random customers:")
    for name, cut in bench_queries(organization, metric, customers, args.queries).items():
        print(
            f"  {name:<16} p50 {cut['p50']:6.1f} ms   p95 {cut['p95']:6.1f} ms   "
            f"p99 {cut['p99']:6.1f} ms"
        )


if __name__ == "__main__":
    main()
