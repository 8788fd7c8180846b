"""Deliveries in each cloud's export layout: which files make up which billing period.

A ``Delivery`` is what one import job takes: every data file of one billing period of one
export, as the cloud last delivered it. Its ``fingerprint`` covers the manifest and the files'
ETags, so a period delivered again (AWS re-states a month as charges settle) is a new delivery
that replaces the period, and an unchanged one is skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from .stores import SourceError, StoredObject

# <prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/[<execution id>/]<export>-Manifest.json
AWS_MANIFEST = re.compile(
    r"(?:^|/)(?P<export>[^/]+)/metadata/BILLING_PERIOD=(?P<period>\d{4}-\d{2})/"
    r"(?:[^/]+/)?(?P=export)-Manifest\.json$"
)


@dataclass
class Delivery:
    key: str
    billing_period: str
    label: str
    files: list[StoredObject]
    fingerprint: str = ""
    manifest: StoredObject | None = None
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.key} ({self.label})" if self.label else self.key

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "billing_period": self.billing_period,
            "delivery": self.label,
            "fingerprint": self.fingerprint,
            "files": [{"key": f.key, "etag": f.etag, "size": f.size} for f in self.files],
            "bytes": sum(f.size for f in self.files),
        }


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _prefix(prefix: str) -> str:
    prefix = (prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


def aws_deliveries(store, prefix: str) -> list[Delivery]:
    """AWS Data Exports: the newest manifest of each export's billing period, and its files."""
    base = _prefix(prefix)
    listed = {item.key: item for item in store.list(base)}
    manifests: dict[tuple[str, str], StoredObject] = {}
    for item in listed.values():
        match = AWS_MANIFEST.search(item.key)
        if not match:
            continue
        slot = (item.key[len(base) : match.end("export")], match["period"])
        newest = manifests.get(slot)
        if newest is None or (item.modified, item.key) > (newest.modified, newest.key):
            manifests[slot] = item
    if not manifests:
        raise SourceError(
            f"No AWS Data Exports manifest under {store.where}/{base}: expected "
            "<prefix>/<export-name>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json "
            "(is the prefix the export's S3 path prefix?)."
        )
    deliveries = []
    for (export, period), manifest_object in sorted(manifests.items()):
        try:
            manifest = json.loads(store.read(manifest_object))
            uris = manifest["dataFiles"]
            if not isinstance(uris, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise SourceError(
                f"{manifest_object.key} is not a Data Exports manifest (no dataFiles list)."
            ) from None
        label = str(manifest.get("executionId") or manifest.get("deliveryId") or "")
        delivery = Delivery(
            key=f"{export}/BILLING_PERIOD={period}",
            billing_period=period,
            label=label,
            files=[],
            manifest=manifest_object,
        )
        for uri in uris:
            key = urlparse(str(uri)).path.lstrip("/") if "://" in str(uri) else str(uri)
            if key in listed:
                delivery.files.append(listed[key])
            else:
                delivery.problems.append(f"{uri} is listed in the manifest but not in the bucket")
        delivery.fingerprint = fingerprint(
            manifest_object.key,
            manifest_object.etag,
            label,
            *(f"{item.key}:{item.etag}" for item in delivery.files),
        )
        deliveries.append(delivery)
    return deliveries


# <prefix>/<export>/<YYYYMMDD>-<YYYYMMDD>/<run id>/manifest.json (Cost Management exports)
AZURE_MANIFEST = re.compile(
    r"(?:^|/)(?P<export>[^/]+)/(?P<start>\d{8})-(?P<end>\d{8})/(?P<run>[^/]+)/manifest\.json$"
)


def azure_deliveries(store, prefix: str) -> list[Delivery]:
    """Azure Cost Management exports: each period's newest run (its manifest lists the blobs)."""
    base = _prefix(prefix)
    listed = {item.key: item for item in store.list(base)}
    runs: dict[tuple[str, str], tuple[str, StoredObject, dict]] = {}
    for item in listed.values():
        match = AZURE_MANIFEST.search(item.key)
        if not match:
            continue
        try:
            manifest = json.loads(store.read(item))
            blobs = manifest["blobs"]
            if not isinstance(blobs, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise SourceError(
                f"{item.key} is not a Cost Management export manifest (no blobs list)."
            ) from None
        submitted = str((manifest.get("runInfo") or {}).get("submittedTime") or "")
        slot = (item.key[len(base) : match.end("export")], match["start"])
        newest = runs.get(slot)
        rank = (submitted, item.modified.isoformat(), item.key)
        if newest is None or rank > newest[0]:
            runs[slot] = (rank, item, manifest)
    if not runs:
        raise SourceError(
            f"No Cost Management export manifest under {store.where}/{base}: expected "
            "<directory>/<export-name>/<YYYYMMDD-YYYYMMDD>/<run id>/manifest.json."
        )
    deliveries = []
    for (export, start), (_, manifest_object, manifest) in sorted(runs.items()):
        period = f"{start[:4]}-{start[4:6]}"
        run_id = str((manifest.get("runInfo") or {}).get("runId") or "")
        delivery = Delivery(
            key=f"{export}/{period}",
            billing_period=period,
            label=run_id,
            files=[],
            manifest=manifest_object,
        )
        for blob in manifest["blobs"]:
            name = str(blob.get("blobName", "")) if isinstance(blob, dict) else str(blob)
            if name in listed:
                delivery.files.append(listed[name])
            else:
                delivery.problems.append(
                    f"{name} is listed in the manifest but not in the container"
                )
        delivery.fingerprint = fingerprint(
            manifest_object.key,
            manifest_object.etag,
            run_id,
            *(f"{item.key}:{item.etag}" for item in delivery.files),
        )
        deliveries.append(delivery)
    return deliveries


# A dated folder: 2026-08, 202608, 2026-08-15, 20260815 or BILLING_PERIOD=2026-08.
DATED_FOLDER = re.compile(
    r"^(?:[A-Za-z_]+=)?(?P<year>\d{4})-?(?P<month>\d{2})(?:-?(?P<day>\d{2}))?$"
)
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def dated_folder_deliveries(store, prefix: str) -> list[Delivery]:
    """GCS (a scheduled BigQuery EXPORT DATA of the FOCUS view): one folder per billing period
    or per day, its files written whole each time; the newest folder of each month is the
    delivery, fingerprinted by its objects' generations."""
    base = _prefix(prefix)
    folders: dict[str, list[StoredObject]] = {}
    for item in store.list(base):
        if item.key.lower().endswith(DATA_SUFFIXES):
            folder = item.key[len(base) :].rpartition("/")[0]
            folders.setdefault(folder, []).append(item)
    newest: dict[tuple[str, str], str] = {}
    for folder in folders:
        parent, _, name = folder.rpartition("/")
        match = DATED_FOLDER.match(name)
        if not match or not 1 <= int(match["month"]) <= 12:
            continue
        slot = (parent, f"{match['year']}-{match['month']}")
        if slot not in newest or name > newest[slot].rpartition("/")[2]:
            newest[slot] = folder
    if not newest:
        raise SourceError(
            f"No dated export folder under {store.where}/{base}: expected "
            "<prefix>/[<export>/]<YYYY-MM or YYYY-MM-DD>/<files>.csv(.gz)|.parquet."
        )
    deliveries = []
    for (parent, period), folder in sorted(newest.items()):
        files = sorted(folders[folder], key=lambda item: item.key)
        delivery = Delivery(
            key=f"{parent}/{period}" if parent else period,
            billing_period=period,
            label=folder.rpartition("/")[2],
            files=files,
        )
        delivery.fingerprint = fingerprint(folder, *(f"{item.key}:{item.etag}" for item in files))
        deliveries.append(delivery)
    return deliveries
