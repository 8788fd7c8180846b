"""Object stores of the clouds, through their own SDKs: list, read small files, open big ones.

Every store answers the same three calls, and turns its SDK's errors (unknown bucket, denied
access, bad credentials, unreachable endpoint) into a ``SourceError`` that says what to fix.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from core.errors import ServiceError

from .reader import BUFFER_BYTES, open_ranged


class SourceError(ServiceError):
    """The source cannot be read as configured: a 4xx on test, ``last_error`` on sync."""

    def __init__(self, message: str):
        super().__init__(message, field="source")


@dataclass(frozen=True)
class StoredObject:
    key: str
    etag: str
    size: int
    modified: datetime


class S3Store:
    """An S3 bucket (or an S3-compatible endpoint) through boto3.

    Credentials: the source's access key, or else boto3's default chain (``AWS_ACCESS_KEY_ID``
    and ``AWS_SECRET_ACCESS_KEY``, the shared credentials and config files, web identity, the
    container or instance role); with a ``role_arn``, those credentials assume the role (STS
    ``AssumeRole``) and the bucket is read with the role's temporary credentials."""

    ROLE_SESSION_NAME = "costline-sync"

    def __init__(self, settings: dict, secrets: dict):
        import boto3
        from botocore.config import Config

        self.bucket = settings["bucket"]
        self.where = f"s3://{self.bucket}"
        session_options = {}
        if secrets.get("secret_access_key"):
            session_options = {
                "aws_access_key_id": settings.get("access_key_id") or None,
                "aws_secret_access_key": secrets["secret_access_key"],
            }
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10)
        endpoint = settings.get("endpoint_url") or None
        with self._errors():
            session = boto3.session.Session(region_name=settings.get("region") or None)
            if settings.get("role_arn"):
                sts = session.client("sts", endpoint_url=endpoint, config=config, **session_options)
                assumed = sts.assume_role(
                    RoleArn=settings["role_arn"], RoleSessionName=self.ROLE_SESSION_NAME
                )["Credentials"]
                session_options = {
                    "aws_access_key_id": assumed["AccessKeyId"],
                    "aws_secret_access_key": assumed["SecretAccessKey"],
                    "aws_session_token": assumed["SessionToken"],
                }
            self.client = session.client(
                "s3", endpoint_url=endpoint, config=config, **session_options
            )

    def list(self, prefix: str) -> Iterator[StoredObject]:
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(
                        item["Key"], item["ETag"].strip('"'), item["Size"], item["LastModified"]
                    )

    def read(self, item: StoredObject) -> bytes:
        with self._errors():
            return self.client.get_object(Bucket=self.bucket, Key=item.key)["Body"].read()

    def open(self, item: StoredObject) -> io.BufferedReader:
        """The object as a seekable file; a read fails if the object changed since listed."""

        def open_range(start: int):
            with self._errors():
                response = self.client.get_object(
                    Bucket=self.bucket,
                    Key=item.key,
                    Range=f"bytes={start}-",
                    IfMatch=f'"{item.etag}"',
                )
            return response["Body"]

        return open_ranged(item.key.rsplit("/", 1)[-1], item.size, open_range)

    def _errors(self):
        return _S3Errors(self.where)


class _SdkErrors:
    """Turns a cloud SDK's exceptions raised inside ``with`` into a SourceError that says what to
    fix. Subclasses name the cloud and ``describe`` an error (None: not theirs, raised as is)."""

    cloud = ""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, SourceError):
            return False
        text = self.describe(error)
        if text is None:
            return False
        raise SourceError(f"{self.cloud}: {text}") from None

    def describe(self, error: BaseException) -> str | None:
        raise NotImplementedError


class _S3Errors(_SdkErrors):
    MESSAGES = {
        "NoSuchBucket": "the bucket {where} does not exist",
        "AccessDenied": "access to {where} is denied (grant s3:ListBucket and s3:GetObject)",
        "AllAccessDisabled": "access to {where} is denied",
        "InvalidAccessKeyId": "the access key id is not known to AWS",
        "SignatureDoesNotMatch": "the secret access key does not match the access key id",
        "PreconditionFailed": "a file of {where} changed while it was read; the next sync "
        "imports the new delivery",
        "NoSuchKey": "a file of {where} is gone (the export was delivered again?)",
        "InvalidClientTokenId": "the access key id is not known to AWS",
        "ExpiredToken": "the credentials have expired",
    }

    cloud = "S3"

    def describe(self, error):
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            if error.operation_name == "AssumeRole":
                detail = error.response.get("Error", {}).get("Message") or code
                return (
                    f"the role cannot be assumed ({detail}); its trust policy must let these "
                    "credentials call sts:AssumeRole."
                )
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = self.MESSAGES.get(code) or (
                self.MESSAGES["AccessDenied"] if status == 403 else None
            )
            if message is None and status == 404:
                message = self.MESSAGES["NoSuchBucket"]
            text = (message or f"S3 answered {code or status}: {error}").format(where=self.where)
            return f"{text}."
        if isinstance(error, NoCredentialsError):
            return (
                "no credentials: give an access key, or run Costline where boto3's default chain "
                "finds some (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a shared credentials file, "
                "an instance or container role)."
            )
        if isinstance(error, BotoCoreError):
            return str(error)
        if isinstance(error, ValueError):  # a malformed endpoint or region
            return f"the connection settings are not valid ({error})."
        return None


class _ChunkStream:
    """``read(size)`` over an iterator of byte chunks (a download's streaming body)."""

    def __init__(self, chunks, errors):
        self._chunks = iter(chunks)
        self._pending = b""
        self._errors = errors

    def read(self, size: int) -> bytes:
        with self._errors():
            while len(self._pending) < size:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._pending += chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def close(self) -> None:
        self._chunks = iter(())
        self._pending = b""


class AzureBlobStore:
    """An Azure Blob Storage container through azure-storage-blob (Azurite in the tests).

    Credentials: the source's connection string, account key or SAS token, or else
    azure-identity's ``DefaultAzureCredential`` (environment service principal, workload
    identity, managed identity, ...), which gets an OAuth token for the storage account."""

    SECRETS = ("connection_string", "account_key", "sas_token")

    def __init__(self, settings: dict, secrets: dict):
        from azure.storage.blob import BlobServiceClient

        container = settings["container"]
        self.identity = not any(secrets.get(name) for name in self.SECRETS)
        with self._errors_for(container):
            if secrets.get("connection_string"):
                service = BlobServiceClient.from_connection_string(secrets["connection_string"])
            else:
                credential = secrets.get("account_key") or secrets.get("sas_token")
                if credential is None:
                    credential = _DefaultCredential()
                service = BlobServiceClient(settings["account_url"], credential=credential)
        self.container = service.get_container_client(container)
        self.where = f"{self.container.url}"

    def list(self, prefix: str) -> Iterator[StoredObject]:
        with self._errors():
            for blob in self.container.list_blobs(name_starts_with=prefix or None):
                yield StoredObject(blob.name, blob.etag.strip('"'), blob.size, blob.last_modified)

    def read(self, item: StoredObject) -> bytes:
        with self._errors():
            return self.container.download_blob(item.key).readall()

    def open(self, item: StoredObject) -> io.BufferedReader:
        from azure.core import MatchConditions

        def open_range(start: int):
            with self._errors():
                download = self.container.download_blob(
                    item.key,
                    offset=start,
                    etag=f'"{item.etag}"',
                    match_condition=MatchConditions.IfNotModified,
                )
            return _ChunkStream(download.chunks(), self._errors)

        return open_ranged(item.key.rsplit("/", 1)[-1], item.size, open_range)

    def _errors(self):
        return self._errors_for(self.where)

    def _errors_for(self, where: str):
        return _AzureErrors(where, identity=self.identity)


class NoTokenError(Exception):
    """The default credential got no token. Not an ``AzureError``: the storage SDK retries any
    ``AzureError`` (four attempts with back-off, ~100 s), and a token that no identity can give
    will not come on a retry."""


class _DefaultCredential:
    """azure-identity's ``DefaultAzureCredential``, whose failure to get a token is final."""

    def __init__(self):
        from azure.identity import DefaultAzureCredential

        self.default = DefaultAzureCredential()

    def get_token(self, *scopes, **kwargs):
        return self._final(self.default.get_token, *scopes, **kwargs)

    def get_token_info(self, *scopes, **kwargs):
        return self._final(self.default.get_token_info, *scopes, **kwargs)

    def close(self) -> None:
        self.default.close()

    @staticmethod
    def _final(get, *scopes, **kwargs):
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return get(*scopes, **kwargs)
        except ClientAuthenticationError as error:
            raise NoTokenError(_first_line(error)) from None


class _AzureErrors(_SdkErrors):
    cloud = "Azure Blob"

    def __init__(self, where: str, *, identity: bool = False):
        super().__init__(where)
        self.identity = identity  # the default credential, not a key or SAS

    def describe(self, error):
        from azure.core.exceptions import (
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        code = getattr(error, "error_code", None) or ""
        if isinstance(error, NoTokenError):
            text = (
                "the default credential found no identity to get a token with "
                "(DefaultAzureCredential: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, "
                "a workload or managed identity); give a key, SAS or connection string, or run "
                f"Costline with an identity ({_first_line(error)})"
            )
        elif isinstance(error, ResourceNotFoundError) and code == "ContainerNotFound":
            text = f"the container {self.where} does not exist"
        elif isinstance(error, ResourceNotFoundError):
            text = f"a blob of {self.where} is gone (the export ran again?)"
        elif isinstance(error, ResourceModifiedError):
            text = (
                f"a blob of {self.where} changed while it was read; the next sync imports "
                "the new run"
            )
        elif code == "AuthorizationPermissionMismatch":
            text = (
                f"access to {self.where} is denied to this identity (give it the role "
                "Storage Blob Data Reader on the container)"
            )
        elif (
            self.identity
            and isinstance(error, HttpResponseError)
            and error.status_code
            in (
                401,
                403,
            )
        ):
            text = (
                f"access to {self.where} is denied to the default credential's token "
                f"({code or error.status_code}; the identity needs Storage Blob Data Reader on "
                "the container, in the storage account's tenant)"
            )
        elif isinstance(error, ClientAuthenticationError) or (
            isinstance(error, HttpResponseError) and error.status_code == 403
        ):
            text = (
                f"access to {self.where} is denied (check the key or SAS: it needs read and list)"
            )
        elif isinstance(error, AzureError):
            text = f"{type(error).__name__}: {_first_line(error)}"
        elif isinstance(error, ValueError):  # a malformed connection string or URL
            text = f"the connection settings are not valid ({error})"
        else:
            return None
        return f"{text}."


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class GcsStore:
    """A Google Cloud Storage bucket through google-cloud-storage (a local emulator in tests).

    ``etag`` holds the object's generation: a new upload of the same name is a new generation,
    and reads ask for the listed one."""

    # Listing and reading objects is all a sync does.
    SCOPES = ("https://www.googleapis.com/auth/devstorage.read_only",)

    def __init__(self, settings: dict, secrets: dict):
        from google.cloud import storage

        self.where = f"gs://{settings['bucket']}"
        endpoint = settings.get("endpoint_url") or None
        with self._errors():
            if secrets.get("service_account_json"):
                from google.oauth2 import service_account

                try:
                    info = json.loads(secrets["service_account_json"])
                except ValueError:
                    raise SourceError("GCS: service_account_json is not JSON.") from None
                if not isinstance(info, dict):
                    raise SourceError("GCS: service_account_json is not a service account key.")
                try:
                    credentials = service_account.Credentials.from_service_account_info(
                        info, scopes=self.SCOPES
                    )
                except (ValueError, KeyError) as error:
                    raise SourceError(
                        f"GCS: service_account_json is not a usable service account key ({error})."
                    ) from None
                project = info.get("project_id")
            else:
                credentials, project = self._default_credentials(endpoint)
            client = storage.Client(
                project=project,
                credentials=credentials,
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )
        self.bucket = client.bucket(settings["bucket"])

    @classmethod
    def _default_credentials(cls, endpoint: str | None):
        """Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's ADC
        file, the attached service account on Google Cloud); none found and a custom endpoint
        (an emulator, a public bucket's mirror): anonymous."""
        import google.auth
        from google.auth.credentials import AnonymousCredentials
        from google.auth.exceptions import DefaultCredentialsError

        try:
            return google.auth.default(scopes=cls.SCOPES)
        except DefaultCredentialsError:
            if endpoint:
                return AnonymousCredentials(), "costline"
            raise

    def list(self, prefix: str) -> Iterator[StoredObject]:
        with self._errors():
            for blob in self.bucket.client.list_blobs(self.bucket, prefix=prefix or None):
                yield StoredObject(blob.name, str(blob.generation), blob.size, blob.updated)

    def read(self, item: StoredObject) -> bytes:
        with self._errors():
            return self.bucket.blob(item.key, generation=int(item.etag)).download_as_bytes()

    def open(self, item: StoredObject) -> io.BufferedReader:
        def open_range(start: int):
            with self._errors():
                blob = self.bucket.blob(item.key, generation=int(item.etag))
                reader = blob.open("rb", chunk_size=BUFFER_BYTES)
                reader.seek(start)
            return _GcsStream(reader, self._errors)

        return open_ranged(item.key.rsplit("/", 1)[-1], item.size, open_range)

    def _errors(self):
        return _GcsErrors(self.where)


class _GcsStream:
    def __init__(self, reader, errors):
        self.reader = reader
        self._errors = errors

    def read(self, size: int) -> bytes:
        with self._errors():
            return self.reader.read(size)

    def close(self) -> None:
        self.reader.close()


class _GcsErrors(_SdkErrors):
    cloud = "GCS"

    def describe(self, error):
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth

        if isinstance(error, api.NotFound):
            text = (
                f"the bucket {self.where} does not exist"
                if "bucket" in str(error).lower() and "/o/" not in str(error)
                else f"an object of {self.where} is gone (the export ran again?)"
            )
        elif isinstance(error, api.Forbidden | api.Unauthorized):
            text = f"access to {self.where} is denied (grant storage.objects.list and .get)"
        elif isinstance(error, auth.DefaultCredentialsError):
            text = (
                "no credentials: give service_account_json, or run Costline with Application "
                "Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, an attached service account)"
            )
        elif isinstance(error, auth.RefreshError | auth.TransportError):
            text = f"the credentials got no access token ({_first_line(error)})"
        elif isinstance(error, api.GoogleAPIError | auth.GoogleAuthError):
            text = f"{type(error).__name__}: {error}"
        else:
            return None
        return f"{text}."


def store_for(source_type: str, settings: dict, secrets: dict):
    if source_type == "gcs":
        return GcsStore(settings, secrets)
    if source_type == "s3":
        return S3Store(settings, secrets)
    if source_type == "azure_blob":
        return AzureBlobStore(settings, secrets)
    raise SourceError(f"Sources of type {source_type!r} are not supported yet.")
