"""Pulling AWS Data Exports (FOCUS 1.2) from S3: boto3 against moto's S3 server, totals checked
against DuckDB over the same files, re-deliveries, and bad configuration."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from costs import services
from costs.connectors import sync
from costs.models import CostRow, ImportJob, IntegrationSource

from .emulators import moto_s3
from .focus_files import METRICS, generate, monthly_totals
from .test_services import assert_close, stored_monthly_totals

AUGUST, SEPTEMBER = date(2026, 8, 1), date(2026, 9, 1)
EXPORT = "focus-daily"
PREFIX = "billing/exports"
KEYS = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "moto-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3() as url:
        yield url


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key_id"],
        aws_secret_access_key=KEYS["secret_access_key"],
    )


@pytest.fixture
def bucket(s3):
    name = f"cur-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def export_files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("aws-export")
    return {
        "august": generate(directory, "aws", rows=600, seed=21, months=[AUGUST], suffix=".csv.gz"),
        "september_1": generate(
            directory, "aws", rows=500, seed=22, months=[SEPTEMBER], suffix=".csv.gz"
        ),
        "september_2": generate(
            directory, "aws", rows=400, seed=23, months=[SEPTEMBER], suffix=".csv.gz"
        ),
        "august_restated": generate(
            directory, "aws", rows=650, seed=24, months=[AUGUST], suffix=".csv.gz"
        ),
    }


def deliver(s3, bucket: str, period: str, parts: list[Path], execution_id: str) -> None:
    """Write a billing period as Data Exports does (overwrite mode): data parts, then manifest."""
    base = f"{PREFIX}/{EXPORT}"
    uris = []
    for number, part in enumerate(parts, 1):
        key = f"{base}/data/BILLING_PERIOD={period}/{EXPORT}-{number:05d}.csv.gz"
        s3.upload_file(str(part), bucket, key)
        uris.append(f"s3://{bucket}/{key}")
    manifest = {
        "executionId": execution_id,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{EXPORT}-abc",
        "columns": [{"name": "BilledCost", "type": "decimal"}],
        "dataFiles": uris,
        "additionalOutputFiles": [],
    }
    s3.put_object(
        Bucket=bucket,
        Key=f"{base}/metadata/BILLING_PERIOD={period}/{EXPORT}-Manifest.json",
        Body=json.dumps(manifest).encode(),
    )


def s3_source(bucket: str, endpoint: str, **changes) -> dict:
    return {
        "type": "s3",
        "bucket": bucket,
        "prefix": PREFIX,
        "region": "us-east-1",
        "endpoint_url": endpoint,
        **KEYS,
        **changes,
    }


def run(jobs: list[ImportJob]) -> list[ImportJob]:
    return [services.import_job_run(job) for job in jobs]


def expected_totals(*paths: Path) -> dict[date, dict[str, Decimal]]:
    totals: dict[date, dict[str, Decimal]] = {}
    for path in paths:
        for month, sums in monthly_totals(path).items():
            slot = totals.setdefault(month, dict.fromkeys(METRICS, Decimal(0)))
            for name in METRICS:
                slot[name] += sums[name]
    return totals


def assert_totals(integration, *paths: Path) -> None:
    expected = expected_totals(*paths)
    stored = stored_monthly_totals(integration)
    assert stored.keys() == expected.keys()
    for month, sums in expected.items():
        assert_close(stored[month], sums)


def test_sync_imports_each_period_then_only_what_was_delivered_again(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    deliver(
        s3,
        bucket,
        "2026-09",
        [export_files["september_1"], export_files["september_2"]],
        "exec-sep-1",
    )
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))

    plan = sync.source_test(aws_integration)
    assert [entry["key"] for entry in plan["new"]] == [
        f"{EXPORT}/BILLING_PERIOD=2026-08",
        f"{EXPORT}/BILLING_PERIOD=2026-09",
    ]
    assert [len(entry["files"]) for entry in plan["new"]] == [1, 2]

    jobs = run(sync.source_sync(aws_integration, enqueue=False))
    assert [job.status for job in jobs] == ["succeeded", "succeeded"]
    assert [job.billing_periods for job in jobs] == [["2026-08-01"], ["2026-09-01"]]
    assert_totals(
        aws_integration,
        export_files["august"],
        export_files["september_1"],
        export_files["september_2"],
    )
    source = IntegrationSource.objects.get(integration=aws_integration)
    assert source.last_error == ""
    assert source.last_checked_at is not None and source.next_run_at > source.last_checked_at
    assert "2026-09" in source.last_imported_delivery

    # Nothing new: a second sync queues nothing.
    assert sync.source_sync(aws_integration, enqueue=False) == []
    assert sync.source_test(aws_integration)["new"] == []

    # AWS re-states August: same keys, new figures, new execution. Only August is replaced.
    deliver(s3, bucket, "2026-08", [export_files["august_restated"]], "exec-aug-2")
    september_rows = CostRow.objects.filter(
        integration=aws_integration, billing_period_start=SEPTEMBER
    ).count()
    (job,) = run(sync.source_sync(aws_integration, enqueue=False))
    assert job.status == "succeeded", job.error
    assert job.billing_periods == ["2026-08-01"]
    assert job.rows_replaced == 600 and job.rows_written == 650
    assert_totals(
        aws_integration,
        export_files["august_restated"],
        export_files["september_1"],
        export_files["september_2"],
    )
    assert (
        CostRow.objects.filter(integration=aws_integration, billing_period_start=SEPTEMBER).count()
        == september_rows
    )


def test_unknown_bucket_is_a_source_error_recorded_on_the_integration(aws_integration, s3_endpoint):
    sync.source_save(aws_integration, s3_source("no-such-bucket-here", s3_endpoint))
    with pytest.raises(sync.SourceError, match="does not exist"):
        sync.source_test(aws_integration)
    with pytest.raises(sync.SourceError):
        sync.source_sync(aws_integration, enqueue=False)
    source = IntegrationSource.objects.get(integration=aws_integration)
    assert "no-such-bucket-here" in source.last_error and source.last_checked_at


def test_a_bucket_without_export_manifests_says_which_layout_it_expected(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    s3.upload_file(str(export_files["august"]), bucket, f"{PREFIX}/focus.csv.gz")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    with pytest.raises(sync.SourceError, match="BILLING_PERIOD=YYYY-MM"):
        sync.source_test(aws_integration)


def test_a_file_deleted_after_discovery_fails_its_job_with_the_reason(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    (job,) = sync.source_sync(aws_integration, enqueue=False)
    s3.delete_object(
        Bucket=bucket, Key=f"{PREFIX}/{EXPORT}/data/BILLING_PERIOD=2026-08/{EXPORT}-00001.csv.gz"
    )
    job = services.import_job_run(job)
    assert job.status == "failed"
    assert "S3:" in job.error
    assert not CostRow.objects.filter(integration=aws_integration).exists()
