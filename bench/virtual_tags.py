"""Benchmark: applying a virtual tag where cost rows are read, against one grouped pass.

Usage (embedded SQLite and a Parquet store under ``var/bench/virtual_tags``, both re-created):

    .venv/bin/python bench/virtual_tags.py [--rows 1000000] [--values 20] [--rounds 5]

It writes N synthetic AWS cost rows (three months, 12 services, 6 regions, ``team``/``env``
tags; numpy + pyarrow, through the store's own ``write_tables``) and a virtual tag ``Owner``
with ``--values`` values: most of them named by service and region, one split by percentages
(so the split path runs) and one with a date range. Each round, interleaved, runs:

  * **tagged**: the cost per value of the tag — ``GROUP BY tags['Owner']`` through
    ``costs.columnar.query.select``, which applies the virtual tag (one ``multiIf`` per row,
    the split lines, the exact-split arithmetic);
  * **grouped**: one grouped pass over the same rows, ``GROUP BY service_name`` (the issue's
    yardstick: the tag may cost at most 1.5× this);
  * **hand-written**: the same figures by a hand-written ClickHouse query (a ``multiIf`` over
    the same conditions, the provider's own ``Owner`` tag for rows none matches, a float
    percentage multiply), checked equal to the cent to what **tagged** gave.

It prints the median of each and the ratios tagged / grouped and tagged / hand-written. Run it
with another ``--rows`` (linear in rows) or ``--values`` (not rows × values).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICES = [
    "AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda", "AmazonDynamoDB", "AmazonCloudFront",
    "AmazonVPC", "AmazonEKS", "AmazonSQS", "AmazonSNS", "AWSGlue", "AmazonCloudWatch",
]  # fmt: skip
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]
TEAMS = ["data", "web", "platform", "mobile"]
START = date(2026, 8, 1)
DAYS = 92
CENT = Decimal("0.01")


def setup(directory: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(ROOT / "var" / "bench" / "virtual_tags")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def synthetic_table(rows: int, organization_id: str, integration_id: str, seed: int) -> pa.Table:
    from costs.columnar.schema import MONEY_TYPE, SCHEMA

    rng = np.random.default_rng(seed)
    service = rng.integers(0, len(SERVICES), rows)
    region = rng.integers(0, len(REGIONS), rows)
    day = rng.integers(0, DAYS, rows)
    cents = rng.integers(1, 500_000, rows)  # up to $5,000.00 in 1/100 cents
    days = np.array([START + timedelta(days=int(d)) for d in range(DAYS)], dtype="datetime64[D]")
    charge_day = days[day]
    month = charge_day.astype("datetime64[M]").astype("datetime64[D]")
    money = pa.array([Decimal(int(c)).scaleb(-4) for c in cents], type=MONEY_TYPE)
    team = rng.integers(0, len(TEAMS), rows)
    tags = pa.array(
        [[("team", TEAMS[t]), ("env", "prod" if t % 2 else "dev")] for t in team],
        type=SCHEMA.field("tags").type,
    )
    text = {
        "organization_id": organization_id,
        "integration_id": integration_id,
        "provider": "aws",
        "billing_account_id": "100000000001",
        "sub_account_id": "200000000001",
        "charge_category": "Usage",
        "pricing_category": "Standard",
        "billing_currency": "USD",
    }
    columns = {}
    for field in SCHEMA:
        name = field.name
        if name == "service_name":
            columns[name] = pa.array(np.array(SERVICES)[service])
        elif name == "region_id":
            columns[name] = pa.array(np.array(REGIONS)[region])
        elif name == "resource_id":
            columns[name] = pa.array([f"i-{i:08x}" for i in rng.integers(0, 50_000, rows)])
        elif name in ("billed_cost", "effective_cost", "list_cost", "contracted_cost"):
            columns[name] = money
        elif name in ("pricing_quantity", "consumed_quantity"):
            columns[name] = pa.nulls(rows, type=MONEY_TYPE)
        elif name == "charge_period_start":
            columns[name] = pa.array(charge_day)
        elif name == "billing_period_start":
            columns[name] = pa.array(month)
        elif name == "tags":
            columns[name] = tags
        else:
            columns[name] = pa.array([text.get(name, "")] * rows, type=pa.string())
    return pa.table(columns, schema=SCHEMA)


def tag_values(count: int) -> list[dict]:
    """``count`` values: one percentage split, one date-ranged, the rest by service × region."""
    values = [
        {
            "filter": "costs.provider = 'aws' AND costs.service = 'AmazonEKS'",
            "percentages": [{"value": "data", "pct": 50}, {"value": "web", "pct": 30}],
        },
        {
            "filter": "costs.provider = 'aws' AND costs.service = 'AmazonS3'",
            "name": "storage-september",
            "date_ranges": [{"start_date": "2026-09-01", "end_date": "2026-09-30"}],
        },
    ]
    pairs = [(s, r) for s in SERVICES if s not in ("AmazonEKS",) for r in REGIONS]
    for index in range(count - len(values)):
        service, region = pairs[index % len(pairs)]
        values.append(
            {
                "filter": f"costs.provider = 'aws' AND costs.service = '{service}' "
                f"AND costs.region = '{region}'",
                "name": f"{service}/{region}",
            }
        )
    return values


def hand_written_sql(values: list[dict]) -> str:
    """The same per-value figures, by hand: a multiIf label and the percentage shares."""
    arms = []
    for value in values:
        service = value["filter"].split("costs.service = '")[1].split("'")[0]
        test = f"service_name = '{service}'"
        if "costs.region" in value["filter"]:
            region = value["filter"].split("costs.region = '")[1].split("'")[0]
            test += f" AND region_id = '{region}'"
        if value.get("date_ranges"):
            test += " AND charge_period_start BETWEEN '2026-09-01' AND '2026-09-30'"
        if value.get("percentages"):
            pairs = ", ".join(
                f"('{item['value']}', {item['pct'] / 100})" for item in value["percentages"]
            )
            rest = 1 - sum(item["pct"] for item in value["percentages"]) / 100
            arms.append(f"{test}, [{pairs}, ('', {rest})]")
        else:
            arms.append(f"{test}, [('{value['name']}', 1.0)]")
    # Rows no value matches keep the provider's own tag of the key (the tag is overridable).
    shares = f"multiIf({', '.join(arms)}, [(ifNull(tags['Owner'], ''), 1.0)])"
    return (
        "SELECT share.1 AS value, sum(toFloat64(billed_cost) * share.2) AS cost "
        f"FROM __cost_rows__ ARRAY JOIN {shares} AS share GROUP BY value"
    )


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--values", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-vtags-"))
    setup(directory)
    from costs.columnar.query import ROWS, select_rows
    from costs.columnar.store import store_root, write_tables
    from costs.services import integration_create
    from organizations.services import organization_create
    from virtual_tags import services

    shutil.rmtree(store_root(), ignore_errors=True)
    organization = organization_create("Virtual tags bench")
    integration = integration_create(organization, "aws", "AWS payer")
    started = time.perf_counter()
    table = synthetic_table(args.rows, str(organization.pk), str(integration.pk), seed=7)
    months = table.column("billing_period_start").to_numpy()
    write_tables(
        integration,
        [table.filter(pa.array(months == np.datetime64(m))) for m in np.unique(months)],
    )
    print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f} s")

    values = tag_values(args.values)
    services.config_create(
        organization, key="Owner", overridable=True, backfill_until="2026-08-01", values=values
    )

    def tagged():
        rows = select_rows(
            organization.pk,
            f"SELECT ifNull(tags['Owner'], '') AS value, sum(billed_cost) AS cost FROM {ROWS} "
            "GROUP BY value",
        )
        return {row["value"]: row["cost"] for row in rows}

    def grouped():
        return select_rows(
            organization.pk,
            f"SELECT service_name, sum(billed_cost) AS cost FROM {ROWS} GROUP BY service_name",
        )

    def hand():
        rows = select_rows(organization.pk, hand_written_sql(values), raw_tags=True)
        return {row["value"]: Decimal(str(row["cost"])) for row in rows}

    for function in (tagged, grouped, hand):  # warm up (file cache, connection)
        function()
    times = {"tagged": [], "grouped": [], "hand-written": []}
    for _ in range(args.rounds):
        for name, function in (("tagged", tagged), ("grouped", grouped), ("hand-written", hand)):
            seconds, result = timed(function)
            times[name].append(seconds)
            if name == "tagged":
                figures = result
            elif name == "hand-written":
                for value, cost in result.items():
                    # Floats by hand: equal to the cent (the engine is exact to 10 places).
                    if abs(figures.get(value, Decimal(0)) - cost) > CENT:
                        raise SystemExit(
                            f"figures differ for {value!r}: {figures.get(value)} vs {cost}"
                        )
    assert len(figures) >= args.values, figures.keys()
    medians = {name: statistics.median(seconds) for name, seconds in times.items()}
    for name, seconds in medians.items():
        print(f"{name}: median {seconds * 1000:.0f} ms over {args.rounds} rounds")
    print(
        f"tagged / grouped: {medians['tagged'] / medians['grouped']:.2f}x; "
        f"tagged / hand-written: {medians['tagged'] / medians['hand-written']:.2f}x "
        f"({args.rows:,} rows, {args.values} values, {len(figures)} tag values, figures equal)"
    )
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
