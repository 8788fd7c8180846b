"""Pulling Azure Cost Management FOCUS exports from Blob Storage: azure-storage-blob against
Azurite, exports laid out as Cost Management writes them (partitioned runs and their
manifest.json), totals checked against DuckDB over the same files, re-runs, bad configuration,
and the default credential (azure-identity) getting a real OAuth token for Azurite over HTTPS."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

from costs import services
from costs.connectors import stores, sync
from costs.models import IntegrationSource

from .emulators import (
    AZURITE,
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    azure_access_token,
    azurite,
    isolate_cloud_credentials,
    local_http,
    self_signed_certificate,
)
from .focus_files import generate
from .test_connectors_s3 import assert_totals

pytestmark = pytest.mark.skipif(
    not AZURITE.exists(), reason="Azurite is not installed (npm ci --prefix tests/emulators)"
)

AUGUST, SEPTEMBER = date(2026, 8, 1), date(2026, 9, 1)
EXPORT = "focus-monthly"
DIRECTORY = "cost-exports"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-0000000c0571"


@pytest.fixture(autouse=True)
def no_machine_credentials(monkeypatch, tmp_path):
    isolate_cloud_credentials(monkeypatch, tmp_path / "home")


@pytest.fixture(scope="module")
def blob_endpoint(tmp_path_factory):
    with azurite(tmp_path_factory.mktemp("azurite")) as url:
        yield url


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def oauth_endpoint(tmp_path_factory, tls):
    """Azurite over HTTPS accepting OAuth bearer tokens, as Blob Storage does."""
    with azurite(tmp_path_factory.mktemp("azurite-oauth"), certificate=tls) as url:
        yield url


@pytest.fixture
def trust_tls(monkeypatch, tls):
    """The SDKs' HTTP client (requests) trusts the local certificate."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))


def shared_key_client(endpoint: str) -> BlobServiceClient:
    return BlobServiceClient(
        endpoint, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )


def new_container(endpoint: str):
    return shared_key_client(endpoint).create_container(f"costs-{uuid.uuid4().hex[:10]}")


@pytest.fixture
def container(blob_endpoint):
    return new_container(blob_endpoint)


@pytest.fixture(scope="module")
def export_files(tmp_path_factory) -> dict[str, tuple[Path, int]]:
    directory = tmp_path_factory.mktemp("azure-export")

    def part(seed, rows, month):
        path = generate(
            directory,
            "azure",
            rows=rows,
            seed=seed,
            months=[month],
            focus_version="1.2",
            suffix=".csv.gz",
        )
        return path, rows

    return {
        "august_1": part(31, 400, AUGUST),
        "august_2": part(32, 300, AUGUST),
        "september": part(33, 350, SEPTEMBER),
        "august_rerun": part(34, 450, AUGUST),
    }


def run_export(
    container,
    month: date,
    parts: list[tuple[Path, int]],
    submitted: str,
    *,
    export: str = EXPORT,
    export_type: str = "FocusCost",
) -> str:
    """Write one run as Cost Management does with file partitioning on: the data blobs of the
    run, then its manifest.json, in

        <directory>/<export name>/<YYYYMMDD-YYYYMMDD>/<export time yyyyMMddHHmm>/<run id>/

    The manifest has the shape Microsoft documents for exports (exportConfig, deliveryConfig,
    runInfo, blobs[].blobName / byteCount) with the counts FinOps hubs read (blobCount,
    dataRowCount)."""
    run_id = str(uuid.uuid4())
    last_day = (date(month.year + month.month // 12, month.month % 12 + 1, 1).toordinal()) - 1
    end = date.fromordinal(last_day)
    export_time = submitted[:16].replace("-", "").replace("T", "").replace(":", "")
    folder = f"{DIRECTORY}/{export}/{month:%Y%m%d}-{end:%Y%m%d}/{export_time}/{run_id}"
    blobs = []
    for number, (path, rows) in enumerate(parts):
        name = f"{folder}/part_{number}_0001.csv.gz"
        with open(path, "rb") as handle:
            container.upload_blob(name, handle)
        blobs.append({"blobName": name, "byteCount": path.stat().st_size, "dataRowCount": rows})
    manifest = {
        "manifestVersion": "2021-01-01",
        "dataFormat": "csv",
        "blobCount": len(blobs),
        "byteCount": sum(blob["byteCount"] for blob in blobs),
        "dataRowCount": sum(blob["dataRowCount"] for blob in blobs),
        "exportConfig": {
            "exportName": export,
            "resourceId": f"{SUBSCRIPTION}/providers/Microsoft.CostManagement/exports/{export}",
            "dataVersion": "1.0r2",
            "apiVersion": "2023-07-01-preview",
            "type": export_type,
            "timeFrame": "MonthToDate",
            "granularity": "Daily",
        },
        "deliveryConfig": {
            "partitionData": True,
            "dataOverwriteBehavior": "CreateNewReport",
            "fileFormat": "Csv",
            "compressionMode": "gzip",
            "containerUri": f"{SUBSCRIPTION}/resourceGroups/billing/providers/"
            f"Microsoft.Storage/storageAccounts/{AZURITE_ACCOUNT}",
            "rootFolderPath": DIRECTORY,
        },
        "runInfo": {
            "executionType": "Scheduled",
            "submittedTime": submitted,
            "runId": run_id,
            "startDate": f"{month:%Y-%m-%d}T00:00:00",
            "endDate": f"{end:%Y-%m-%d}T00:00:00",
        },
        "blobs": blobs,
    }
    container.upload_blob(f"{folder}/manifest.json", json.dumps(manifest).encode())
    return run_id


def azure_source(endpoint: str, container_name: str, **changes) -> dict:
    return {
        "type": "azure_blob",
        "account_url": endpoint,
        "container": container_name,
        "prefix": DIRECTORY,
        "account_key": AZURITE_KEY,
        **changes,
    }


def paths(*entries: tuple[Path, int]) -> list[Path]:
    return [path for path, _ in entries]


@pytest.fixture
def azure_integration(organization):
    return services.integration_create(organization, "azure", "Azure EA")


def test_sync_takes_each_periods_newest_run_once(
    azure_integration, container, blob_endpoint, export_files
):
    run_export(
        container,
        AUGUST,
        [export_files["august_1"], export_files["august_2"]],
        "2026-09-01T04:00:00.1234567Z",
    )
    run_export(container, SEPTEMBER, [export_files["september"]], "2026-09-02T04:00:00.1234567Z")
    # A price sheet exported to the same directory is not cost data: left out.
    run_export(
        container,
        SEPTEMBER,
        [export_files["september"]],
        "2026-09-02T05:00:00Z",
        export="prices",
        export_type="PriceSheet",
    )
    sync.source_save(azure_integration, azure_source(blob_endpoint, container.container_name))

    plan = sync.source_test(azure_integration)
    assert [(entry["key"], len(entry["files"])) for entry in plan["new"]] == [
        (f"{EXPORT}/2026-08", 2),
        (f"{EXPORT}/2026-09", 1),
    ]
    assert plan["incomplete"] == []
    jobs = [
        services.import_job_run(job) for job in sync.source_sync(azure_integration, enqueue=False)
    ]
    assert [job.status for job in jobs] == ["succeeded", "succeeded"], [job.error for job in jobs]
    assert_totals(
        azure_integration,
        *paths(export_files["august_1"], export_files["august_2"], export_files["september"]),
    )
    assert sync.source_sync(azure_integration, enqueue=False) == []

    # A later run re-states August in a new export-time/run folder: only August is replaced.
    rerun = run_export(
        container, AUGUST, [export_files["august_rerun"]], "2026-09-03T04:00:00.1234567Z"
    )
    (job,) = sync.source_sync(azure_integration, enqueue=False)
    job = services.import_job_run(job)
    assert job.status == "succeeded", job.error
    assert rerun in job.filename and job.billing_periods == ["2026-08-01"]
    assert_totals(
        azure_integration, *paths(export_files["august_rerun"], export_files["september"])
    )
    assert IntegrationSource.objects.get(integration=azure_integration).last_error == ""


def test_a_run_still_being_written_is_reported_not_imported(
    azure_integration, container, blob_endpoint, export_files
):
    run_export(container, AUGUST, [export_files["august_1"]], "2026-09-01T04:00:00Z")
    (manifest,) = [
        blob.name for blob in container.list_blobs() if blob.name.endswith("manifest.json")
    ]
    part = manifest.replace("manifest.json", "part_0_0001.csv.gz")
    container.upload_blob(part, b"truncated", overwrite=True)
    sync.source_save(azure_integration, azure_source(blob_endpoint, container.container_name))
    plan = sync.source_test(azure_integration)
    (entry,) = plan["incomplete"]
    assert "the manifest says" in entry["problems"][0]
    assert sync.source_sync(azure_integration, enqueue=False) == []
    assert (
        "the manifest says"
        in IntegrationSource.objects.get(integration=azure_integration).last_error
    )


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


def test_a_container_without_export_manifests_says_which_layout_it_expected(
    azure_integration, container, blob_endpoint, export_files
):
    container.upload_blob(f"{DIRECTORY}/focus.csv.gz", b"loose file")
    sync.source_save(azure_integration, azure_source(blob_endpoint, container.container_name))
    with pytest.raises(sync.SourceError, match="YYYYMMDD-YYYYMMDD"):
        sync.source_test(azure_integration)


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


# --------------------------------------------------------------------- the default credential


def default_credential_source(endpoint: str, container_name: str) -> dict:
    """No key, SAS or connection string: DefaultAzureCredential."""
    source = azure_source(endpoint, container_name)
    del source["account_key"]
    return source


def test_a_source_without_a_secret_builds_a_default_azure_credential(oauth_endpoint):
    store = stores.AzureBlobStore(
        {"account_url": oauth_endpoint, "container": "exports", "prefix": ""}, {}
    )
    assert isinstance(store.container.credential.default, DefaultAzureCredential)


@pytest.fixture
def managed_identity(monkeypatch):
    """A managed identity endpoint as App Service gives one (IDENTITY_ENDPOINT and
    IDENTITY_HEADER), which DefaultAzureCredential's ManagedIdentityCredential asks for tokens."""
    audience = {"value": "https://storage.azure.com"}

    def respond(method, path, headers, body):
        if headers.get("x-identity-header") != "local-identity-secret":
            return 401, {"error": "missing X-IDENTITY-HEADER"}
        resource = parse_qs(urlparse(path).query)["resource"][0]
        return 200, {
            "access_token": azure_access_token(audience=audience["value"]),
            "expires_on": str(int(time.time()) + 3600),
            "resource": resource,
            "token_type": "Bearer",
        }

    with local_http(respond) as endpoint:
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{endpoint.url}/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "local-identity-secret")
        endpoint.audience = audience
        yield endpoint


def test_the_default_credential_gets_a_token_from_the_managed_identity_and_syncs(
    azure_integration, oauth_endpoint, trust_tls, managed_identity, export_files
):
    container = new_container(oauth_endpoint)
    run_export(container, AUGUST, [export_files["august_1"]], "2026-09-01T04:00:00Z")
    sync.source_save(
        azure_integration, default_credential_source(oauth_endpoint, container.container_name)
    )

    (job,) = sync.source_sync(azure_integration, enqueue=False)
    job = services.import_job_run(job)
    assert job.status == "succeeded", job.error
    assert_totals(azure_integration, *paths(export_files["august_1"]))
    assert sync.source_sync(azure_integration, enqueue=False) == []

    assert managed_identity.requests, "DefaultAzureCredential never asked the identity endpoint"
    asked = parse_qs(urlparse(managed_identity.requests[0]["path"]).query)
    assert asked["resource"] == ["https://storage.azure.com"]


def test_a_token_for_another_audience_is_denied_with_a_400(
    token_client, azure_integration, oauth_endpoint, trust_tls, managed_identity
):
    managed_identity.audience["value"] = "https://management.azure.com"
    container = new_container(oauth_endpoint)
    sync.source_save(
        azure_integration, default_credential_source(oauth_endpoint, container.container_name)
    )
    tested = token_client.post(f"/api/v1/integrations/{azure_integration.pk}/test")
    assert tested.status_code == 400
    assert "denied" in str(tested.json())


def test_the_default_credential_without_an_identity_is_a_400_and_a_visible_sync_error(
    token_client, azure_integration, oauth_endpoint, trust_tls
):
    container = new_container(oauth_endpoint)
    sync.source_save(
        azure_integration, default_credential_source(oauth_endpoint, container.container_name)
    )
    base = f"/api/v1/integrations/{azure_integration.pk}"
    started = time.monotonic()
    tested = token_client.post(f"{base}/test")
    assert tested.status_code == 400
    assert "found no identity" in str(tested.json())
    assert time.monotonic() - started < 30
    synced = token_client.post(f"{base}/sync")
    assert synced.status_code == 400
    state = token_client.get(base).json()["sync"]
    assert "found no identity" in state["last_error"] and state["last_checked_at"]


def test_the_default_credential_needs_an_https_account_url(azure_integration, blob_endpoint):
    sync.source_save(azure_integration, default_credential_source(blob_endpoint, "exports"))
    with pytest.raises(sync.SourceError, match="only supported with HTTPS"):
        sync.source_test(azure_integration)
