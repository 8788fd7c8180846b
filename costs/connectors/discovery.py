"""Deliveries in each cloud's export layout: which files make up which billing period.

A ``Delivery`` is what one import job takes: every data file of one billing period of one
export, as the cloud last delivered it. Its ``fingerprint`` covers the manifest and the files'
ETags, so a period delivered again (AWS re-states a month as charges settle) is a new delivery
that replaces the period, and an unchanged one is skipped.

The layouts and manifests read here are the clouds' documented ones (docs/cost-data.md, "Pulling
exports from the clouds"): AWS Data Exports' ``<export>-Manifest.json`` (``dataFiles``), Azure
Cost Management's ``manifest.json`` (``blobs``, ``runInfo``, ``exportConfig``) and dated
folders written by a scheduled BigQuery ``EXPORT DATA`` in GCS.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

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


def _read_manifest(store, item: StoredObject, what: str) -> dict:
    try:
        manifest = json.loads(store.read(item))
    except ValueError:
        raise SourceError(f"{item.key} is not JSON, so not {what}.") from None
    if not isinstance(manifest, dict):
        raise SourceError(f"{item.key} is not {what}.")
    return manifest


def _is_focus(columns) -> bool:
    """A Data Exports manifest's ``columns`` name a FOCUS table when BilledCost is one of them
    (CUR 2.0 has line_item_* columns instead); no columns listed: taken as FOCUS."""
    if not isinstance(columns, list) or not columns:
        return True
    names = {
        str(column.get("name", "") if isinstance(column, dict) else column).lower()
        for column in columns
    }
    return "billedcost" in names


def aws_deliveries(store, prefix: str) -> list[Delivery]:
    """AWS Data Exports: the newest manifest of each export's billing period, and its files.

    The manifest lists the period's files in ``dataFiles`` (``s3://bucket/key`` URIs; a legacy
    Cost and Usage Report manifest's ``reportKeys`` are taken too) and names the delivery with
    ``executionId``. Exports whose manifest lists columns without ``BilledCost`` (CUR 2.0, not
    FOCUS) are left out."""
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
    not_focus = []
    for (export, period), manifest_object in sorted(manifests.items()):
        manifest = _read_manifest(store, manifest_object, "a Data Exports manifest")
        uris = manifest.get("dataFiles")
        if uris is None:
            uris = manifest.get("reportKeys")
        if not isinstance(uris, list):
            raise SourceError(
                f"{manifest_object.key} is not a Data Exports manifest (no dataFiles list)."
            )
        if not _is_focus(manifest.get("columns")):
            not_focus.append(export)
            continue
        label = str(manifest.get("executionId") or manifest.get("assemblyId") or "")
        delivery = Delivery(
            key=f"{export}/BILLING_PERIOD={period}",
            billing_period=period,
            label=label,
            files=[],
            manifest=manifest_object,
        )
        for uri in uris:
            uri = str(uri)
            if "://" in uri:
                parsed = urlparse(uri)
                key = unquote(parsed.path.lstrip("/"))
                bucket = getattr(store, "bucket", None)
                if isinstance(bucket, str) and parsed.netloc and parsed.netloc != bucket:
                    delivery.problems.append(f"{uri} is in another bucket than {store.where}")
                    continue
            else:
                key = uri.lstrip("/")
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
    if not deliveries:
        raise SourceError(
            f"The exports under {store.where}/{base} ({', '.join(sorted(set(not_focus)))}) are "
            "not FOCUS (their manifests list no BilledCost column): create a Data Exports export "
            "of type FOCUS 1.2 with AWS columns."
        )
    return deliveries


# Cost Management exports (docs/cost-data.md, "Azure"), as Azure writes them:
#   <directory>/<export name>/<YYYYMMDD-YYYYMMDD>/<export time yyyyMMddHHmm>/<run GUID>/
# holds the run's data blobs and its manifest.json (the GUID folder depends on the API version;
# older API versions name the manifest _manifest.json). Folders after the date range belong to
# one run; the run's month is runInfo.startDate of its manifest (else the date range).
AZURE_MANIFEST_NAMES = ("manifest.json", "_manifest.json")
AZURE_DATE_RANGE = re.compile(r"^(?P<start>\d{8})-(?P<end>\d{8})$")
AZURE_RUN_FOLDER = re.compile(
    r"^(?:\d{12}|\d{14}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
    re.IGNORECASE,
)
AZURE_FOCUS_TYPES = {"focuscost"}


@dataclass
class _AzureRun:
    manifest: StoredObject
    export: str  # the folders before the date range (directory and export name), from the prefix
    start: str  # YYYYMMDD of the date range folder, '' when the path has none
    run: str  # the folders of this run (export time, run id)

    @property
    def rank(self) -> tuple:
        return (self.manifest.modified, self.run, self.manifest.key)


def _azure_run(item: StoredObject, base: str) -> _AzureRun | None:
    folder, _, name = item.key[len(base) :].rpartition("/")
    if name not in AZURE_MANIFEST_NAMES:
        return None
    parts = folder.split("/") if folder else []
    ranges = [index for index, part in enumerate(parts) if AZURE_DATE_RANGE.match(part)]
    if ranges:
        index = ranges[-1]
        start = AZURE_DATE_RANGE.match(parts[index])["start"]
        export, run = parts[:index], parts[index + 1 :]
    else:
        start, export, run = "", list(parts), []
        while export and AZURE_RUN_FOLDER.match(export[-1]):
            run.insert(0, export.pop())
    return _AzureRun(item, "/".join(export), start, "/".join(run))


def _azure_period(manifest: dict, run: _AzureRun) -> str:
    """``runInfo.startDate`` names the exported month (FinOps hubs read it too); else the date
    range folder of the path."""
    start = str((manifest.get("runInfo") or {}).get("startDate") or "")
    if re.match(r"^\d{4}-\d{2}", start):
        return start[:7]
    if run.start:
        return f"{run.start[:4]}-{run.start[4:6]}"
    return ""


def azure_deliveries(store, prefix: str) -> list[Delivery]:
    """Azure Cost Management exports: each billing period's newest run; its manifest.json lists
    the run's blobs (``blobs[].blobName``, relative to the container) and names it
    (``runInfo.runId``). Exports of another type than FOCUS (``exportConfig.type``, e.g. a price
    sheet exported to the same container) are left out."""
    base = _prefix(prefix)
    listed = {item.key: item for item in store.list(base)}
    newest: dict[tuple[str, str], _AzureRun] = {}
    undated: list[_AzureRun] = []
    for item in listed.values():
        run = _azure_run(item, base)
        if run is None:
            continue
        if not run.start:
            undated.append(run)  # the month is only in the manifest: read them all
            continue
        slot = (run.export, run.start)
        if slot not in newest or run.rank > newest[slot].rank:
            newest[slot] = run
    if not newest and not undated:
        raise SourceError(
            f"No Cost Management export manifest under {store.where}/{base}: expected "
            "<directory>/<export-name>/<YYYYMMDD-YYYYMMDD>/<export time>/<run id>/manifest.json "
            "(is the prefix the export's directory, with file partitioning on?)."
        )
    runs: dict[tuple[str, str], tuple[tuple, _AzureRun, dict]] = {}
    other_types = set()
    for run in [*newest.values(), *undated]:
        manifest = _read_manifest(store, run.manifest, "a Cost Management export manifest")
        if not isinstance(manifest.get("blobs"), list):
            raise SourceError(
                f"{run.manifest.key} is not a Cost Management export manifest (no blobs list)."
            )
        export_type = str((manifest.get("exportConfig") or {}).get("type") or "")
        if export_type and export_type.lower() not in AZURE_FOCUS_TYPES:
            other_types.add(export_type)
            continue
        period = _azure_period(manifest, run)
        submitted = str((manifest.get("runInfo") or {}).get("submittedTime") or "")
        rank = (submitted, *run.rank)
        slot = (run.export, period)
        if slot not in runs or rank > runs[slot][0]:
            runs[slot] = (rank, run, manifest)
    if not runs:
        raise SourceError(
            f"The Cost Management exports under {store.where}/{base} are not FOCUS "
            f"(type {', '.join(sorted(other_types))}): export 'Cost and usage details (FOCUS)'."
        )
    deliveries = []
    for (export, period), (_, run, manifest) in sorted(runs.items()):
        deliveries.append(_azure_delivery(export, period, run, manifest, listed))
    return deliveries


def _azure_delivery(export, period, run: _AzureRun, manifest: dict, listed) -> Delivery:
    run_id = str((manifest.get("runInfo") or {}).get("runId") or run.run)
    delivery = Delivery(
        key="/".join(part for part in (export, period or "unknown period") if part),
        billing_period=period,
        label=run_id,
        files=[],
        manifest=run.manifest,
    )
    if not period:
        delivery.problems.append(
            f"{run.manifest.key}: no runInfo.startDate and no date range folder name its month"
        )
    blobs = manifest["blobs"]
    count = manifest.get("blobCount")
    if isinstance(count, int) and count != len(blobs):
        delivery.problems.append(f"{run.manifest.key} counts {count} blobs but lists {len(blobs)}")
    for blob in blobs:
        name = str(blob.get("blobName", "")) if isinstance(blob, dict) else str(blob)
        name = name.lstrip("/")
        item = listed.get(name)
        if item is None:
            delivery.problems.append(f"{name} is listed in the manifest but not in the container")
            continue
        expected = blob.get("byteCount") if isinstance(blob, dict) else None
        if isinstance(expected, int) and expected != item.size:
            delivery.problems.append(
                f"{name} has {item.size} bytes, the manifest says {expected} (still written?)"
            )
            continue
        delivery.files.append(item)
    delivery.fingerprint = fingerprint(
        run.manifest.key,
        run.manifest.etag,
        run_id,
        *(f"{item.key}:{item.etag}" for item in delivery.files),
    )
    return delivery


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
