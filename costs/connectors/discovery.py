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
