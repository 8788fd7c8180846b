"""Pulling Azure Cost Management FOCUS exports from Blob Storage: azure-storage-blob against
Azurite, totals checked against DuckDB over the same files, re-runs, bad configuration."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from costs import services
from costs.connectors import sync
from costs.models import IntegrationSource

from .emulators import AZURITE, AZURITE_ACCOUNT, AZURITE_KEY, azurite
from .focus_files import generate
from .test_connectors_s3 import assert_totals

pytestmark = pytest.mark.skipif(
    not AZURITE.exists(), reason="Azurite is not installed (npm ci --prefix tests/emulators)"
)

AUGUST, SEPTEMBER = date(2026, 8, 1), date(2026, 9, 1)
EXPORT = "focus-monthly"
DIRECTORY = "cost-exports"


@pytest.fixture(scope="module")
def blob_endpoint(tmp_path_factory):
    with azurite(tmp_path_factory.mktemp("azurite")) as url:
        yield url


def connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint};"
    )


@pytest.fixture
def container(blob_endpoint):
    service = BlobServiceClient.from_connection_string(connection_string(blob_endpoint))
    client = service.create_container(f"costs-{uuid.uuid4().hex[:10]}")
    return client


@pytest.fixture(scope="module")
def export_files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("azure-export")

    def part(seed, rows, month):
        return generate(
            directory,
            "azure",
            rows=rows,
            seed=seed,
            months=[month],
            focus_version="1.2",
            suffix=".csv.gz",
        )

    return {
        "august_1": part(31, 400, AUGUST),
        "august_2": part(32, 300, AUGUST),
        "september": part(33, 350, SEPTEMBER),
        "august_rerun": part(34, 450, AUGUST),
    }


def run_export(container, period: tuple[str, str], parts: list[Path], submitted: str) -> str:
    """Write one run as Cost Management does: partitioned data blobs, then manifest.json."""
    run_id = str(uuid.uuid4())
    folder = f"{DIRECTORY}/{EXPORT}/{period[0]}-{period[1]}/{run_id}"
    blobs = []
    for number, path in enumerate(parts):
        name = f"{folder}/part_{number}_0001.csv.gz"
        with open(path, "rb") as handle:
            container.upload_blob(name, handle)
        blobs.append({"blobName": name, "byteCount": path.stat().st_size, "dataRowCount": 0})
    manifest = {
        "manifestVersion": "2024-04-01",
        "byteCount": sum(blob["byteCount"] for blob in blobs),
        "blobCount": len(blobs),
        "exportConfig": {"exportName": EXPORT, "type": "FocusCost", "dataVersion": "1.0r2"},
        "deliveryConfig": {"partitionData": True, "fileFormat": "Csv", "compressData": "Gzip"},
        "runInfo": {"runId": run_id, "submittedTime": submitted, "executionType": "Scheduled"},
        "blobs": blobs,
    }
    container.upload_blob(f"{folder}/manifest.json", json.dumps(manifest).encode())
    return run_id


def azure_source(endpoint: str, container_name: str) -> dict:
    return {
        "type": "azure_blob",
        "account_url": endpoint,
        "container": container_name,
        "prefix": DIRECTORY,
        "account_key": AZURITE_KEY,
    }


@pytest.fixture
def azure_integration(organization):
    return services.integration_create(organization, "azure", "Azure EA")


def test_sync_takes_each_periods_newest_run_once(
    azure_integration, container, blob_endpoint, export_files
):
    run_export(
        container,
        ("20260801", "20260831"),
        [export_files["august_1"], export_files["august_2"]],
        "2026-09-01T04:00:00Z",
    )
    run_export(
        container, ("20260901", "20260930"), [export_files["september"]], "2026-09-02T04:00:00Z"
    )
    sync.source_save(azure_integration, azure_source(blob_endpoint, container.container_name))

    plan = sync.source_test(azure_integration)
    assert [(entry["key"], len(entry["files"])) for entry in plan["new"]] == [
        (f"{EXPORT}/2026-08", 2),
        (f"{EXPORT}/2026-09", 1),
    ]
    jobs = [
        services.import_job_run(job) for job in sync.source_sync(azure_integration, enqueue=False)
    ]
    assert [job.status for job in jobs] == ["succeeded", "succeeded"], [job.error for job in jobs]
    assert_totals(
        azure_integration,
        export_files["august_1"],
        export_files["august_2"],
        export_files["september"],
    )
    assert sync.source_sync(azure_integration, enqueue=False) == []

    # A later run re-states August in a new run folder: only August is replaced.
    rerun = run_export(
        container, ("20260801", "20260831"), [export_files["august_rerun"]], "2026-09-03T04:00:00Z"
    )
    (job,) = sync.source_sync(azure_integration, enqueue=False)
    job = services.import_job_run(job)
    assert job.status == "succeeded", job.error
    assert rerun in job.filename and job.billing_periods == ["2026-08-01"]
    assert_totals(azure_integration, export_files["august_rerun"], export_files["september"])


def test_unknown_container_and_wrong_key_are_source_errors(
    azure_integration, container, blob_endpoint
):
    sync.source_save(azure_integration, azure_source(blob_endpoint, "no-such-container"))
    with pytest.raises(sync.SourceError, match="does not exist"):
        sync.source_test(azure_integration)
    wrong_key = azure_source(blob_endpoint, container.container_name) | {
        "account_key": "d3Jvbmcga2V5"
    }
    sync.source_save(azure_integration, wrong_key)
    with pytest.raises(sync.SourceError, match="Azure Blob"):
        sync.source_sync(azure_integration, enqueue=False)
    assert IntegrationSource.objects.get(integration=azure_integration).last_error


def test_api_shows_an_azure_source_without_its_secrets(token_client, blob_endpoint):
    response = token_client.post(
        "/api/v1/integrations",
        {"provider": "azure", "source": azure_source(blob_endpoint, "exports")},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == {
        "type": "azure_blob",
        "account_url": blob_endpoint,
        "container": "exports",
        "prefix": DIRECTORY,
        "connection_string": None,
        "account_key": None,
        "sas_token": None,
    }
