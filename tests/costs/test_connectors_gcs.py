"""Pulling Google Cloud's FOCUS export (BigQuery EXPORT DATA into dated GCS folders):
google-cloud-storage against gcp-storage-emulator, totals checked against DuckDB."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from costs import services
from costs.connectors import sync
from costs.models import IntegrationSource

from .emulators import gcs_emulator
from .focus_files import generate
from .test_connectors_s3 import assert_totals

AUGUST, SEPTEMBER = date(2026, 8, 1), date(2026, 9, 1)
PREFIX = "focus/billing-export"


@pytest.fixture(scope="module")
def gcs_endpoint():
    with gcs_emulator() as url:
        yield url


@pytest.fixture
def bucket(gcs_endpoint):
    client = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_endpoint},
    )
    return client.create_bucket(f"focus-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def export_files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("gcs-export")
    return {
        "august_1": generate(
            directory, "gcp", rows=300, seed=41, months=[AUGUST], suffix=".parquet"
        ),
        "august_2": generate(
            directory, "gcp", rows=250, seed=42, months=[AUGUST], suffix=".parquet"
        ),
        "september": generate(
            directory, "gcp", rows=200, seed=43, months=[SEPTEMBER], suffix=".parquet"
        ),
        "september_later": generate(
            directory, "gcp", rows=260, seed=44, months=[SEPTEMBER], suffix=".parquet"
        ),
    }


def export(bucket, folder: str, parts: list[Path]) -> None:
    """As `EXPORT DATA OPTIONS(uri='gs://…/<folder>/*.parquet')` writes its shards."""
    for number, path in enumerate(parts):
        bucket.blob(f"{PREFIX}/{folder}/{number:012d}.parquet").upload_from_filename(str(path))


def gcs_source(bucket, endpoint: str) -> dict:
    return {"type": "gcs", "bucket": bucket.name, "prefix": PREFIX, "endpoint_url": endpoint}


@pytest.fixture
def gcp_integration(organization):
    return services.integration_create(organization, "gcp", "GCP billing")


def test_sync_takes_each_months_newest_folder_once(
    gcp_integration, bucket, gcs_endpoint, export_files
):
    export(bucket, "2026-08", [export_files["august_1"], export_files["august_2"]])
    export(bucket, "2026-09-15", [export_files["september"]])
    sync.source_save(gcp_integration, gcs_source(bucket, gcs_endpoint))

    plan = sync.source_test(gcp_integration)
    assert [(entry["key"], len(entry["files"])) for entry in plan["new"]] == [
        ("2026-08", 2),
        ("2026-09", 1),
    ]
    jobs = [
        services.import_job_run(job) for job in sync.source_sync(gcp_integration, enqueue=False)
    ]
    assert [job.status for job in jobs] == ["succeeded", "succeeded"], [job.error for job in jobs]
    assert_totals(
        gcp_integration,
        export_files["august_1"],
        export_files["august_2"],
        export_files["september"],
    )
    assert sync.source_sync(gcp_integration, enqueue=False) == []

    # A later day's export of September replaces September only.
    export(bucket, "2026-09-16", [export_files["september_later"]])
    (job,) = sync.source_sync(gcp_integration, enqueue=False)
    job = services.import_job_run(job)
    assert job.status == "succeeded", job.error
    assert job.billing_periods == ["2026-09-01"]
    assert_totals(
        gcp_integration,
        export_files["august_1"],
        export_files["august_2"],
        export_files["september_later"],
    )

    # The same folder written again (new generations) is a new delivery too.
    export(bucket, "2026-08", [export_files["august_1"], export_files["august_2"]])
    assert [entry["key"] for entry in sync.source_test(gcp_integration)["new"]] == ["2026-08"]


def test_unknown_bucket_and_wrong_layout_are_source_errors(gcp_integration, bucket, gcs_endpoint):
    sync.source_save(gcp_integration, gcs_source(bucket, gcs_endpoint) | {"bucket": "nope-bucket"})
    with pytest.raises(sync.SourceError, match="GCS"):
        sync.source_sync(gcp_integration, enqueue=False)
    assert "GCS" in IntegrationSource.objects.get(integration=gcp_integration).last_error
    bucket.blob(f"{PREFIX}/latest/focus.parquet").upload_from_string(b"PAR1")
    sync.source_save(gcp_integration, gcs_source(bucket, gcs_endpoint))
    with pytest.raises(sync.SourceError, match="No dated export folder"):
        sync.source_test(gcp_integration)
