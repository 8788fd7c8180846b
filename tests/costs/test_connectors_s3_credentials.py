"""S3 sources without an access key: boto3's default credential chain (environment variables, a
shared credentials file and profile) and an assumed role (STS AssumeRole), against moto's
server; and no credentials at all, a clear 400 and a visible sync error."""

from __future__ import annotations

import uuid
from datetime import date

import boto3
import pytest

from costs import services
from costs.connectors import stores, sync
from costs.models import IntegrationSource

from .emulators import isolate_cloud_credentials, moto_s3
from .focus_files import generate
from .test_connectors_s3 import EXPORT, PREFIX, assert_totals, deliver

AUGUST = date(2026, 8, 1)
ROLE = "arn:aws:iam::123456789012:role/costline-read-billing"
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENTCHAIN", "AWS_SECRET_ACCESS_KEY": "env-secret"}


@pytest.fixture(autouse=True)
def no_machine_credentials(monkeypatch, tmp_path):
    isolate_cloud_credentials(monkeypatch, tmp_path / "home")


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3() as url:
        yield url


@pytest.fixture
def bucket(s3_endpoint):
    """A bucket with one delivered period (August, one part), written with its own keys."""
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAWRITER",
        aws_secret_access_key="writer-secret",
    )
    name = f"cur-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return s3, name


@pytest.fixture(scope="module")
def august(tmp_path_factory):
    directory = tmp_path_factory.mktemp("aws-chain")
    return generate(directory, "aws", rows=300, seed=51, months=[AUGUST], suffix=".csv.gz")


@pytest.fixture
def delivered(bucket, august):
    s3, name = bucket
    deliver(s3, name, "2026-08", [august], "exec-chain-1")
    return name


def chain_source(bucket: str, endpoint: str, **changes) -> dict:
    """No access_key_id / secret_access_key: the default chain."""
    return {
        "type": "s3",
        "bucket": bucket,
        "prefix": PREFIX,
        "region": "us-east-1",
        "endpoint_url": endpoint,
        **changes,
    }


def signing_identity(source: IntegrationSource, endpoint: str) -> tuple[str, str]:
    """The access key the source's S3 client signs with, and who STS says that is."""
    store = stores.store_for(source.type, source.settings, sync.secrets.decrypt(source.secrets))
    credentials = store.client._request_signer._credentials.get_frozen_credentials()
    sts = boto3.session.Session().client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    return credentials.access_key, sts.get_caller_identity()["Arn"]


def test_environment_variables_of_the_default_chain_read_and_sync(
    monkeypatch, aws_integration, delivered, s3_endpoint, august
):
    for name, value in ENV_KEYS.items():
        monkeypatch.setenv(name, value)
    source = sync.source_save(aws_integration, chain_source(delivered, s3_endpoint))
    assert source.secrets == ""  # nothing of the credentials is stored
    assert signing_identity(source, s3_endpoint)[0] == ENV_KEYS["AWS_ACCESS_KEY_ID"]

    (job,) = sync.source_sync(aws_integration, enqueue=False)
    assert services.import_job_run(job).status == "succeeded"
    assert_totals(aws_integration, august)
    assert sync.source_sync(aws_integration, enqueue=False) == []


def test_a_shared_credentials_file_and_profile_of_the_default_chain(
    monkeypatch, tmp_path, aws_integration, delivered, s3_endpoint
):
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIANOTTHISONE\naws_secret_access_key = x\n\n"
        "[billing]\naws_access_key_id = AKIASHAREDFILE\naws_secret_access_key = file-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "billing")
    source = sync.source_save(aws_integration, chain_source(delivered, s3_endpoint))
    assert signing_identity(source, s3_endpoint)[0] == "AKIASHAREDFILE"
    (entry,) = sync.source_test(aws_integration)["new"]
    assert (
        entry["key"] == f"{EXPORT}/BILLING_PERIOD=2026-08" and entry["delivery"] == "exec-chain-1"
    )


@pytest.mark.parametrize("credentials", ["default chain", "access key"])
def test_a_role_arn_is_assumed_and_the_bucket_read_as_the_role(
    monkeypatch, credentials, aws_integration, delivered, s3_endpoint, august
):
    if credentials == "default chain":
        for name, value in ENV_KEYS.items():
            monkeypatch.setenv(name, value)
        keys = {}
    else:
        keys = {"access_key_id": "AKIASOURCEKEY", "secret_access_key": "source-secret"}
    source = sync.source_save(
        aws_integration, chain_source(delivered, s3_endpoint, role_arn=ROLE, **keys)
    )
    access_key, identity = signing_identity(source, s3_endpoint)
    # STS's temporary credentials of the role, not the ones that assumed it.
    assert access_key.startswith("ASIA")
    assert identity == (
        f"arn:aws:sts::123456789012:assumed-role/costline-read-billing/"
        f"{stores.S3Store.ROLE_SESSION_NAME}"
    )
    (job,) = sync.source_sync(aws_integration, enqueue=False)
    assert services.import_job_run(job).status == "succeeded"
    assert_totals(aws_integration, august)


@pytest.mark.parametrize("role_arn", ["", ROLE])
def test_no_credentials_anywhere_is_a_400_on_test_and_a_visible_sync_error(
    token_client, aws_integration, delivered, s3_endpoint, role_arn
):
    sync.source_save(aws_integration, chain_source(delivered, s3_endpoint, role_arn=role_arn))
    base = f"/api/v1/integrations/{aws_integration.pk}"
    tested = token_client.post(f"{base}/test")
    assert tested.status_code == 400
    assert "no credentials" in str(tested.json())
    assert token_client.post(f"{base}/sync").status_code == 400

    from costs import tasks

    assert tasks.sync_integration_source(str(aws_integration.pk)) == 0  # the scheduled sync
    state = token_client.get(base).json()["sync"]
    assert "no credentials" in state["last_error"] and state["last_checked_at"]
