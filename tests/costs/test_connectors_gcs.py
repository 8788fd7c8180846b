"""Pulling Google Cloud's FOCUS export (BigQuery EXPORT DATA into dated GCS folders):
google-cloud-storage against gcp-storage-emulator, totals checked against DuckDB; credentials by
a service account key (in the source or as Application Default Credentials) exchanged for a
token at a local token endpoint, anonymous against the emulator, or none: a clear 400."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from costs import services
from costs.connectors import stores, sync
from costs.models import IntegrationSource

from .emulators import gcs_emulator, isolate_cloud_credentials, local_http
from .focus_files import generate
from .test_connectors_s3 import assert_totals

AUGUST, SEPTEMBER = date(2026, 8, 1), date(2026, 9, 1)
PREFIX = "focus/billing-export"
READ_ONLY = "https://www.googleapis.com/auth/devstorage.read_only"


@pytest.fixture(autouse=True)
def no_machine_credentials(monkeypatch, tmp_path):
    isolate_cloud_credentials(monkeypatch, tmp_path / "home")


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


# ------------------------------------------------------------------------------ credentials


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def token_endpoint(signing_key):
    """Google's OAuth token endpoint for service accounts, locally: it takes the JWT-bearer grant
    google-auth signs with the key, checks its signature and claims, and gives a token."""
    public_key = signing_key.public_key()
    state = {"refuse": False, "claims": []}

    def respond(method, path, headers, body):
        form = parse_qs(body.decode())
        header, payload, signature = form["assertion"][0].split(".")

        def decode(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        public_key.verify(
            decode(signature),
            f"{header}.{payload}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        state["claims"].append(json.loads(decode(payload)))
        if state["refuse"]:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        return 200, {"access_token": "ya29.local-token", "expires_in": 3600, "token_type": "Bearer"}

    with local_http(respond) as endpoint:
        endpoint.state = state
        endpoint.token_uri = f"{endpoint.url}/token"
        yield endpoint


def service_account_key(signing_key, token_uri: str) -> dict:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "acme-billing",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "costline-reader@acme-billing.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }


def assert_read_only_grant(token_endpoint) -> None:
    assert token_endpoint.state["claims"], "no token was asked for"
    claims = token_endpoint.state["claims"][-1]
    assert claims["iss"] == "costline-reader@acme-billing.iam.gserviceaccount.com"
    assert claims["aud"] == "https://oauth2.googleapis.com/token"  # google-auth's, always
    assert claims["scope"] == READ_ONLY


def test_application_default_credentials_from_a_key_file_read_and_sync(
    monkeypatch,
    tmp_path,
    gcp_integration,
    bucket,
    gcs_endpoint,
    export_files,
    signing_key,
    token_endpoint,
):
    key_file = tmp_path / "costline-reader.json"
    key_file.write_text(json.dumps(service_account_key(signing_key, token_endpoint.token_uri)))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    export(bucket, "2026-08", [export_files["august_1"]])
    source = sync.source_save(gcp_integration, gcs_source(bucket, gcs_endpoint))
    assert source.secrets == ""

    (job,) = sync.source_sync(gcp_integration, enqueue=False)
    assert services.import_job_run(job).status == "succeeded"
    assert_totals(gcp_integration, export_files["august_1"])
    assert_read_only_grant(token_endpoint)


def test_a_service_account_key_in_the_source_is_used_and_never_shown(
    token_client, bucket, gcs_endpoint, export_files, signing_key, token_endpoint
):
    export(bucket, "2026-09-15", [export_files["september"]])
    key = json.dumps(service_account_key(signing_key, token_endpoint.token_uri))
    created = token_client.post(
        "/api/v1/integrations",
        {
            "provider": "gcp",
            "name": "GCP",
            "source": gcs_source(bucket, gcs_endpoint) | {"service_account_json": key},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["source"]["service_account_json"] is None
    stored = IntegrationSource.objects.get(integration_id=created.json()["id"])
    assert "PRIVATE KEY" not in stored.secrets + json.dumps(stored.settings)

    tested = token_client.post(f"/api/v1/integrations/{created.json()['id']}/test")
    assert tested.status_code == 200, tested.json()
    assert [entry["key"] for entry in tested.json()["new"]] == ["2026-09"]
    assert_read_only_grant(token_endpoint)


def test_a_refused_token_is_a_400_and_a_visible_sync_error(
    token_client, gcp_integration, bucket, gcs_endpoint, signing_key, token_endpoint
):
    token_endpoint.state["refuse"] = True
    key = json.dumps(service_account_key(signing_key, token_endpoint.token_uri))
    sync.source_save(
        gcp_integration, gcs_source(bucket, gcs_endpoint) | {"service_account_json": key}
    )
    base = f"/api/v1/integrations/{gcp_integration.pk}"
    tested = token_client.post(f"{base}/test")
    assert tested.status_code == 400
    assert "got no access token" in str(tested.json()) and "invalid_grant" in str(tested.json())
    assert token_client.post(f"{base}/sync").status_code == 400
    assert "invalid_grant" in token_client.get(base).json()["sync"]["last_error"]


def test_a_key_that_is_not_a_service_account_key_is_a_400(token_client, gcp_integration, bucket):
    sync.source_save(
        gcp_integration,
        {"type": "gcs", "bucket": bucket.name, "service_account_json": '{"type": "user"}'},
    )
    tested = token_client.post(f"/api/v1/integrations/{gcp_integration.pk}/test")
    assert tested.status_code == 400
    assert "not a usable service account key" in str(tested.json())


def test_no_credentials_for_google_itself_is_a_400(token_client, gcp_integration):
    """No key, no ADC, the real endpoint: nothing to call Google with (no request is made)."""
    sync.source_save(gcp_integration, {"type": "gcs", "bucket": "acme-billing", "prefix": "focus"})
    with pytest.raises(sync.SourceError, match="no credentials"):
        stores.GcsStore(IntegrationSource.objects.get(integration=gcp_integration).settings, {})
    tested = token_client.post(f"/api/v1/integrations/{gcp_integration.pk}/test")
    assert tested.status_code == 400
    assert "Application Default Credentials" in str(tested.json())


def test_without_credentials_an_emulator_is_read_anonymously(bucket, gcs_endpoint):
    store = stores.GcsStore({"bucket": bucket.name, "endpoint_url": gcs_endpoint}, {})
    assert isinstance(store.bucket.client._credentials, AnonymousCredentials)
