"""Pulling AWS Data Exports (FOCUS 1.2) from S3: boto3 against moto's S3 server, totals checked
against DuckDB over the same files, re-deliveries, and bad configuration."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import boto3
import pytest

from costs import services
from costs.connectors import sync
from costs.models import ImportJob, IntegrationSource
from tests.costrows import stored

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
    september_rows = (
        stored().filter(integration=aws_integration, billing_period_start=SEPTEMBER).count()
    )
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
        stored().filter(integration=aws_integration, billing_period_start=SEPTEMBER).count()
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
    assert not stored().filter(integration=aws_integration).exists()


# --------------------------------------------------------------------------- API, command, beat


def test_api_saves_the_source_and_never_shows_its_secret_again(token_client, bucket, s3_endpoint):
    response = token_client.post(
        "/api/v1/integrations",
        {"provider": "aws", "name": "Payer", "source": s3_source(bucket, s3_endpoint)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == {
        "type": "s3",
        "bucket": bucket,
        "prefix": PREFIX,
        "region": "us-east-1",
        "endpoint_url": s3_endpoint,
        "access_key_id": KEYS["access_key_id"],
        "secret_access_key": None,
        "role_arn": None,
    }
    assert body["sync_every_minutes"] == 60
    assert body["sync"]["last_error"] == ""
    stored = IntegrationSource.objects.get(integration_id=body["id"])
    assert KEYS["secret_access_key"] not in stored.secrets + str(stored.settings)

    response = token_client.patch(
        f"/api/v1/integrations/{body['id']}",
        {
            "source": {
                "type": "s3",
                "bucket": bucket,
                "prefix": "elsewhere",
                **KEYS | {"secret_access_key": None},
            },
            "sync_every_minutes": 15,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["source"]["prefix"] == "elsewhere"
    assert response.json()["sync_every_minutes"] == 15
    stored.refresh_from_db()
    assert sync.secrets.decrypt(stored.secrets) == {"secret_access_key": KEYS["secret_access_key"]}

    response = token_client.patch(
        f"/api/v1/integrations/{body['id']}", {"source": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["source"] is None and response.json()["sync"] is None


def test_api_rejects_a_source_it_cannot_use(token_client, aws_integration):
    url = f"/api/v1/integrations/{aws_integration.pk}"
    no_bucket = token_client.patch(url, {"source": {"type": "s3"}}, format="json")
    assert no_bucket.status_code == 400
    assert "bucket" in str(no_bucket.json())
    half_keys = token_client.patch(
        url, {"source": {"type": "s3", "bucket": "b", "access_key_id": "AKIA"}}, format="json"
    )
    assert half_keys.status_code == 400
    unknown = token_client.patch(url, {"source": {"type": "ftp", "bucket": "b"}}, format="json")
    assert unknown.status_code == 400
    renamed = token_client.patch(url, {"name": "New"}, format="json")
    assert renamed.status_code == 400


def test_api_test_lists_deliveries_and_sync_queues_their_jobs(
    token_client,
    aws_integration,
    s3,
    bucket,
    s3_endpoint,
    export_files,
    django_capture_on_commit_callbacks,
):
    deliver(
        s3, bucket, "2026-09", [export_files["september_1"], export_files["september_2"]], "exec-1"
    )
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    base = f"/api/v1/integrations/{aws_integration.pk}"

    tested = token_client.post(f"{base}/test")
    assert tested.status_code == 200, tested.json()
    (entry,) = tested.json()["new"]
    assert entry["billing_period"] == "2026-09" and entry["delivery"] == "exec-1"
    assert [file["key"].rsplit("/", 1)[1] for file in entry["files"]] == [
        f"{EXPORT}-00001.csv.gz",
        f"{EXPORT}-00002.csv.gz",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        synced = token_client.post(f"{base}/sync")
    assert synced.status_code == 202, synced.json()
    (job_id,) = synced.json()["job_ids"]
    job = token_client.get(f"{base}/imports/{job_id}").json()
    assert job["status"] == "succeeded" and job["source"] == "sync", job
    assert_totals(aws_integration, export_files["september_1"], export_files["september_2"])

    again = token_client.post(f"{base}/sync")
    assert again.status_code == 202 and again.json()["job_ids"] == []
    assert token_client.post(f"{base}/test").json()["unchanged"][0]["key"] == entry["key"]


def test_api_bad_bucket_is_a_400_and_a_visible_sync_error(
    token_client, aws_integration, s3_endpoint
):
    sync.source_save(aws_integration, s3_source("missing-bucket", s3_endpoint))
    base = f"/api/v1/integrations/{aws_integration.pk}"
    tested = token_client.post(f"{base}/test")
    assert tested.status_code == 400
    assert "missing-bucket does not exist" in str(tested.json())
    synced = token_client.post(f"{base}/sync")
    assert synced.status_code == 400
    state = token_client.get(base).json()["sync"]
    assert "missing-bucket does not exist" in state["last_error"]
    assert state["last_checked_at"] and state["next_run_at"]


def test_api_without_a_source_or_write_scope(token_client, read_client, aws_integration):
    base = f"/api/v1/integrations/{aws_integration.pk}"
    assert token_client.post(f"{base}/test").status_code == 400
    assert read_client.post(f"{base}/sync").status_code == 403


def test_sync_integrations_command_and_beat_task(
    organization, aws_integration, s3, bucket, s3_endpoint, export_files
):
    from django.core.management import call_command

    from costs import tasks

    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    assert sync.sources_due() == [aws_integration.pk]
    out = StringIO()
    call_command("sync_integrations", "--org", str(organization.pk), stdout=out)
    assert "succeeded (600 rows)" in out.getvalue()
    assert_totals(aws_integration, export_files["august"])
    assert sync.sources_due() == []  # next run in an hour
    assert tasks.sync_due_sources() == 0
    out = StringIO()
    call_command("sync_integrations", stdout=out)
    assert "nothing new" in out.getvalue()


def test_integrations_page_shows_sync_state_and_syncs_now(
    client,
    user,
    aws_integration,
    s3,
    bucket,
    s3_endpoint,
    export_files,
    django_capture_on_commit_callbacks,
):
    client.force_login(user)
    sync.source_save(aws_integration, s3_source("gone-bucket", s3_endpoint))
    tested = client.post(f"/integrations/{aws_integration.pk}/test/", follow=True)
    assert "Test of “AWS payer” failed" in tested.content.decode()
    failed = client.post(f"/integrations/{aws_integration.pk}/sync/", follow=True)
    html = failed.content.decode()
    assert "gone-bucket does not exist" in html and "Sync error" in html

    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    tested = client.post(f"/integrations/{aws_integration.pk}/test/", follow=True).content.decode()
    assert "connected. 1 new delivery(ies) to import (exec-aug-1), 0 already imported" in tested
    assert "Test connection" in tested and not stored().exists()  # testing imports nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/integrations/{aws_integration.pk}/sync/")
    assert response.status_code == 302 and "/imports/" in response["Location"]
    html = client.get("/integrations/").content.decode()
    assert "Sync now" in html and "BILLING_PERIOD=2026-08 (exec-aug-1)" in html
    assert "Sync error" not in html
    assert_totals(aws_integration, export_files["august"])


def test_an_older_delivery_run_after_a_newer_one_imports_nothing(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    (older,) = sync.source_sync(aws_integration, enqueue=False)
    deliver(s3, bucket, "2026-08", [export_files["august_restated"]], "exec-aug-2")
    (newer,) = sync.source_sync(aws_integration, enqueue=False)
    assert services.import_job_run(newer).status == "succeeded"
    older = services.import_job_run(older)
    assert older.status == "failed" and "superseded" in older.error
    assert_totals(aws_integration, export_files["august_restated"])


def test_a_failed_delivery_is_tried_again_by_the_next_syncs_three_times_in_all(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint))
    (job,) = sync.source_sync(aws_integration, enqueue=False)
    for attempt in range(sync.DELIVERY_ATTEMPTS):
        ImportJob.objects.filter(pk=job.pk).update(status="failed", error="lost")
        jobs = sync.source_sync(aws_integration, enqueue=False)
        if attempt < sync.DELIVERY_ATTEMPTS - 1:
            (job,) = jobs
        else:
            assert jobs == []
    assert [entry["key"] for entry in sync.source_test(aws_integration)["unchanged"]] == [
        f"{EXPORT}/BILLING_PERIOD=2026-08"
    ]


def test_secrets_saved_under_another_secret_key_are_a_visible_sync_error(aws_integration, settings):
    sync.source_save(aws_integration, s3_source("any-bucket", "http://127.0.0.1:9"))
    settings.SECRET_KEY = "a-rotated-secret-key-" + "x" * 40
    with pytest.raises(sync.ServiceError, match="SECRET_KEY"):
        sync.source_sync(aws_integration, enqueue=False)
    assert (
        "save them again" in IntegrationSource.objects.get(integration=aws_integration).last_error
    )


def test_a_role_arn_is_assumed_through_sts_before_reading(
    aws_integration, s3, bucket, s3_endpoint, export_files
):
    deliver(s3, bucket, "2026-08", [export_files["august"]], "exec-aug-1")
    role = "arn:aws:iam::123456789012:role/costline-read-billing"
    sync.source_save(aws_integration, s3_source(bucket, s3_endpoint, role_arn=role))
    (entry,) = sync.source_test(aws_integration)["new"]
    assert entry["delivery"] == "exec-aug-1"


def test_custom_endpoints_can_be_turned_off(aws_integration, settings):
    settings.COSTS_SOURCE_CUSTOM_ENDPOINTS = False
    with pytest.raises(sync.ServiceError, match="COSTS_SOURCE_CUSTOM_ENDPOINTS"):
        sync.source_save(aws_integration, s3_source("b", "http://169.254.169.254"))
    source = sync.source_save(aws_integration, s3_source("b", None))
    assert source.settings["endpoint_url"] == ""
