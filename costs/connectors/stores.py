"""Object stores of the clouds, through their own SDKs: list, read small files, open big ones.

Every store answers the same three calls, and turns its SDK's errors (unknown bucket, denied
access, bad credentials, unreachable endpoint) into a ``SourceError`` that says what to fix.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from core.errors import ServiceError

from .reader import open_ranged


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
    """An S3 bucket (or an S3-compatible endpoint) through boto3."""

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
        session = boto3.session.Session(region_name=settings.get("region") or None)
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10)
        endpoint = settings.get("endpoint_url") or None
        if settings.get("role_arn"):
            with self._errors():
                sts = session.client("sts", endpoint_url=endpoint, config=config, **session_options)
                assumed = sts.assume_role(
                    RoleArn=settings["role_arn"], RoleSessionName="costline-sync"
                )["Credentials"]
            session_options = {
                "aws_access_key_id": assumed["AccessKeyId"],
                "aws_secret_access_key": assumed["SecretAccessKey"],
                "aws_session_token": assumed["SessionToken"],
            }
        self.client = session.client("s3", endpoint_url=endpoint, config=config, **session_options)

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


class _S3Errors:
    MESSAGES = {
        "NoSuchBucket": "the bucket {where} does not exist",
        "AccessDenied": "access to {where} is denied (grant s3:ListBucket and s3:GetObject)",
        "AllAccessDisabled": "access to {where} is denied",
        "InvalidAccessKeyId": "the access key id is not known to AWS",
        "SignatureDoesNotMatch": "the secret access key does not match the access key id",
        "PreconditionFailed": "a file of {where} changed while it was read; the next sync "
        "imports the new delivery",
        "NoSuchKey": "a file of {where} is gone (the export was delivered again?)",
    }

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        if error is None or isinstance(error, SourceError):
            return False
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = self.MESSAGES.get(code) or (
                self.MESSAGES["AccessDenied"] if status == 403 else None
            )
            if message is None and status == 404:
                message = self.MESSAGES["NoSuchBucket"]
            text = (message or f"S3 answered {code or status}: {error}").format(where=self.where)
            raise SourceError(f"S3: {text}.") from None
        if isinstance(error, NoCredentialsError):
            raise SourceError(
                "S3: no credentials; give an access key or run where the default chain has some."
            ) from None
        if isinstance(error, BotoCoreError):
            raise SourceError(f"S3: {error}") from None
        return False


def store_for(source_type: str, settings: dict, secrets: dict):
    if source_type == "s3":
        return S3Store(settings, secrets)
    raise SourceError(f"Sources of type {source_type!r} are not supported yet.")
