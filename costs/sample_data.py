"""Realistic FOCUS sample files, generated with the ``focus-data-toolkit`` package.

The toolkit writes one fixed month (May 2026) per call and keeps every row of a call in memory.
These helpers call it in bounded chunks, move each chunk onto the months asked for, and stream
the rows to CSV (plain or gzip) or Parquet. They feed the demo data, the tests and the import
benchmark.

AWS rows get the ``x_UsageType`` / ``x_Operation`` columns of AWS's own FOCUS export, and EC2
rows are spread over a few instance types, operating systems and tenancies (the toolkit knows
one), so the AWS-only dimensions have something to show.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from focus_data_toolkit.generators import get_generator
from focus_data_toolkit.generators.engine.context import GenerationContext
from focus_data_toolkit.generators.engine.ladder import generate_rows

GENERATOR_MONTH = date(2026, 5, 1)
GENERATOR_NEXT_MONTH = date(2026, 6, 1)
CHUNK_ROWS = 20_000
TIMESTAMP_COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)
AWS_EXTRA_COLUMNS = ("x_UsageType", "x_Operation")

# (instance type, operating system, tenancy, usage-type prefix, operation)
EC2_FLEET = (
    ("m6i.large", "Linux", "Shared", "BoxUsage", "RunInstances"),
    ("c6i.xlarge", "Linux", "Shared", "BoxUsage", "RunInstances"),
    ("r6i.large", "Windows", "Shared", "BoxUsage", "RunInstances:0002"),
    ("t3.medium", "Linux", "Shared", "BoxUsage", "RunInstances"),
    ("m5.xlarge", "RHEL", "Dedicated", "DedicatedUsage", "RunInstances:0010"),
)
AWS_REGION_PREFIX = {
    "us-east-1": "USE1",
    "us-west-2": "USW2",
    "eu-west-1": "EU",
    "ap-southeast-1": "APS1",
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def recent_months(count: int, today: date | None = None) -> list[date]:
    """The ``count`` months ending with the current one, oldest first."""
    current = month_start(today or date.today())
    return [add_months(current, offset) for offset in range(1 - count, 1)]


def columns_for(provider: str, focus_version: str = "1.2") -> list[str]:
    columns = list(get_generator(provider, focus_version).COLUMNS)
    return columns + list(AWS_EXTRA_COLUMNS) if provider == "aws" else columns


def _chunk_seed(seed: int, month: date, chunk: int) -> int:
    digest = hashlib.sha256(f"{seed}:{month.isoformat()}:{chunk}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _shift(value: str, days: int, next_month: date) -> str:
    if not value:
        return value
    if value.startswith(GENERATOR_NEXT_MONTH.isoformat()):
        return next_month.isoformat() + value[10:]
    shifted = date.fromisoformat(value[:10]) + timedelta(days=days)
    return shifted.isoformat() + value[10:]


def _spread(index: int, month: date, next_month: date) -> int:
    """Extra days for a row, so that the toolkit's 28-day window covers the whole month."""
    spare = (next_month - month).days - 28
    return index % (spare + 1)


def _aws_enrich(row: dict[str, str], rng_key: str) -> None:
    details = json.loads(row["SkuPriceDetails"]) if row["SkuPriceDetails"] else {}
    usage_type, operation = "", ""
    prefix = AWS_REGION_PREFIX.get(row["RegionId"], "USE1")
    if row["ServiceName"] == "AmazonEC2" and "InstanceType" in details:
        pick = int(hashlib.md5(rng_key.encode()).hexdigest()[:6], 16) % len(EC2_FLEET)
        instance_type, system, tenancy, usage_prefix, operation = EC2_FLEET[pick]
        details.update(
            InstanceType=instance_type,
            InstanceSeries=instance_type.split(".")[0].upper(),
            OperatingSystem=system,
            x_Tenancy=tenancy,
        )
        row["SkuPriceDetails"] = json.dumps(details, separators=(",", ":"))
        usage_type = f"{prefix}-{usage_prefix}:{instance_type}"
    elif row["ServiceName"] == "AmazonRDS" and "InstanceType" in details:
        usage_type, operation = (
            f"{prefix}-InstanceUsage:{details['InstanceType']}",
            "CreateDBInstance",
        )
    elif row["ServiceName"]:
        usage_type, operation = f"{prefix}-{row['ServiceName']}-Usage", row["ServiceName"]
    row["x_UsageType"] = usage_type
    row["x_Operation"] = operation


def focus_rows(
    provider: str,
    *,
    rows: int,
    seed: int,
    months: Sequence[date],
    focus_version: str = "1.2",
    until: date | None = None,
) -> Iterator[list[dict[str, str]]]:
    """Yield chunks of FOCUS rows spread evenly over ``months`` (charge days < ``until``)."""
    generator = get_generator(provider, focus_version)
    per_month = [
        rows // len(months) + (1 if i < rows % len(months) else 0) for i in range(len(months))
    ]
    for month, month_rows in zip(months, per_month, strict=True):
        next_month = add_months(month, 1)
        days = (month - GENERATOR_MONTH).days
        chunk = 0
        while month_rows > 0:
            size = min(CHUNK_ROWS, month_rows)
            records = generate_rows(
                size,
                _chunk_seed(seed, month, chunk),
                include_credits=True,
                profile=generator.PROFILE,
                adapter=generator.ADAPTER,
                context=GenerationContext(),
            )
            for index, record in enumerate(records):
                extra = _spread(index, month, next_month)
                for column in TIMESTAMP_COLUMNS:
                    shift = days + extra if column.startswith("Charge") else days
                    record[column] = _shift(record[column], shift, next_month)
                if provider == "aws":
                    _aws_enrich(record, f"{seed}:{month}:{chunk}:{index}")
            if until is not None:
                records = [r for r in records if r["ChargePeriodStart"][:10] < until.isoformat()]
            yield records
            month_rows -= size
            chunk += 1


def write_focus_csv(
    path: str | Path,
    provider: str,
    *,
    rows: int,
    seed: int = 1,
    months: Sequence[date],
    focus_version: str = "1.2",
    until: date | None = None,
) -> Path:
    """Write a FOCUS CSV export; a ``.gz`` suffix writes it gzip-compressed."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns_for(provider, focus_version))
        writer.writeheader()
        for chunk in focus_rows(
            provider, rows=rows, seed=seed, months=months, focus_version=focus_version, until=until
        ):
            writer.writerows(chunk)
    return path


def write_focus_parquet(
    path: str | Path,
    provider: str,
    *,
    rows: int,
    seed: int = 1,
    months: Sequence[date],
    focus_version: str = "1.2",
) -> Path:
    """Write a FOCUS Parquet export with the types exporters use (decimals, UTC timestamps)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    money = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost"}
    quantities = {"PricingQuantity", "ConsumedQuantity"}
    columns = columns_for(provider, focus_version)
    path = Path(path)
    writer = None
    try:
        for chunk in focus_rows(
            provider, rows=rows, seed=seed, months=months, focus_version=focus_version
        ):
            arrays = []
            for column in columns:
                values = pa.array([record[column] for record in chunk], pa.string())
                if column in money or column in quantities:
                    values = pc.if_else(pc.equal(values, ""), None, values)
                    values = pc.cast(
                        pc.cast(values, pa.float64()), pa.decimal128(38, 10), safe=False
                    )
                elif column in TIMESTAMP_COLUMNS:
                    values = pc.cast(values, pa.timestamp("us", tz="UTC"))
                arrays.append(values)
            table = pa.Table.from_arrays(arrays, names=columns)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path
