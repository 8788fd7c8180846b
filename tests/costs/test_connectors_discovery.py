"""Discovery over the clouds' documented export layouts and manifests, on an in-memory store:
which manifest is a period's delivery, which files it takes, and what is reported instead of
imported. (The emulator tests run the same code through the SDKs.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from costs.connectors import discovery
from costs.connectors.stores import SourceError, StoredObject

T0 = datetime(2026, 9, 1, 4, 0, tzinfo=UTC)


class MemoryStore:
    where = "memory://bucket"
    bucket = "bucket"

    def __init__(self):
        self.objects: dict[str, tuple[bytes, StoredObject]] = {}
        self.clock = T0
        self.reads: list[str] = []

    def put(self, key: str, data: bytes | dict = b"x,y\n1,2\n") -> StoredObject:
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        self.clock += timedelta(minutes=1)
        item = StoredObject(key, f"etag-{len(self.objects)}-{len(data)}", len(data), self.clock)
        self.objects[key] = (data, item)
        return item

    def list(self, prefix: str):
        for key in sorted(self.objects):
            if key.startswith(prefix):
                yield self.objects[key][1]

    def read(self, item: StoredObject) -> bytes:
        self.reads.append(item.key)
        return self.objects[item.key][0]


# ---------------------------------------------------------------------------- AWS Data Exports

FOCUS_COLUMNS = [{"name": "BilledCost", "type": "decimal"}, {"name": "ServiceName"}]


def aws_delivery(store, export, period, parts, execution_id, *, folder="", columns=FOCUS_COLUMNS):
    """As Data Exports writes a period: <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/[<id>/]
    parts, then metadata/BILLING_PERIOD=YYYY-MM/[<id>/]<export>-Manifest.json."""
    run = f"{folder}/" if folder else ""
    keys = [
        f"exports/{export}/data/BILLING_PERIOD={period}/{run}{export}-{n:05d}.csv.gz"
        for n in range(1, parts + 1)
    ]
    for key in keys:
        store.put(key)
    manifest = {
        "executionId": execution_id,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{export}-0f1e",
        "columns": columns,
        "dataFiles": [f"s3://bucket/{key}" for key in keys],
        "additionalOutputFiles": [],
    }
    store.put(
        f"exports/{export}/metadata/BILLING_PERIOD={period}/{run}{export}-Manifest.json", manifest
    )
    return keys


def test_aws_each_period_is_its_newest_manifest_with_its_data_files():
    store = MemoryStore()
    aws_delivery(store, "focus", "2026-08", 2, "exec-1")
    aws_delivery(store, "focus", "2026-09", 1, "exec-2")
    first = {d.key: d for d in discovery.aws_deliveries(store, "exports")}
    assert sorted(first) == ["focus/BILLING_PERIOD=2026-08", "focus/BILLING_PERIOD=2026-09"]
    august = first["focus/BILLING_PERIOD=2026-08"]
    assert (august.billing_period, august.label, len(august.files)) == ("2026-08", "exec-1", 2)

    # "Create new export file": each execution in its own folder; the newest is the delivery.
    keys = aws_delivery(store, "focus", "2026-08", 3, "exec-3", folder="20260902T0400Z-exec-3")
    again = {d.key: d for d in discovery.aws_deliveries(store, "exports/")}
    august = again["focus/BILLING_PERIOD=2026-08"]
    assert august.label == "exec-3" and [f.key for f in august.files] == keys
    assert august.fingerprint != first["focus/BILLING_PERIOD=2026-08"].fingerprint
    assert (
        again["focus/BILLING_PERIOD=2026-09"].fingerprint
        == first["focus/BILLING_PERIOD=2026-09"].fingerprint
    )


def test_aws_files_missing_or_in_another_bucket_are_problems():
    store = MemoryStore()
    keys = aws_delivery(store, "focus", "2026-08", 2, "exec-1")
    del store.objects[keys[1]]
    manifest_key = "exports/focus/metadata/BILLING_PERIOD=2026-08/focus-Manifest.json"
    manifest = json.loads(store.objects[manifest_key][0])
    manifest["dataFiles"].append("s3://someone-else/exports/focus/part.csv.gz")
    store.put(manifest_key, manifest)
    (delivery,) = discovery.aws_deliveries(store, "exports")
    assert len(delivery.files) == 1
    assert any("not in the bucket" in problem for problem in delivery.problems)
    assert any("another bucket" in problem for problem in delivery.problems)


def test_aws_a_legacy_manifest_with_report_keys_is_read_too():
    store = MemoryStore()
    key = "exports/focus/data/BILLING_PERIOD=2026-08/focus-00001.csv.gz"
    store.put(key)
    store.put(
        "exports/focus/metadata/BILLING_PERIOD=2026-08/focus-Manifest.json",
        {"assemblyId": "asm-1", "reportKeys": [key]},
    )
    (delivery,) = discovery.aws_deliveries(store, "exports")
    assert delivery.label == "asm-1" and [f.key for f in delivery.files] == [key]


def test_aws_exports_that_are_not_focus_are_left_out_and_said_when_alone():
    store = MemoryStore()
    cur = [{"name": "line_item_unblended_cost", "type": "decimal"}]
    aws_delivery(store, "cur2", "2026-08", 1, "exec-cur", columns=cur)
    with pytest.raises(SourceError, match="not FOCUS"):
        discovery.aws_deliveries(store, "exports")
    aws_delivery(store, "focus", "2026-08", 1, "exec-focus")
    assert [d.key for d in discovery.aws_deliveries(store, "exports")] == [
        "focus/BILLING_PERIOD=2026-08"
    ]


def test_aws_a_manifest_that_is_not_one_is_a_source_error():
    store = MemoryStore()
    store.put("exports/focus/metadata/BILLING_PERIOD=2026-08/focus-Manifest.json", b"<html>")
    with pytest.raises(SourceError, match="not JSON"):
        discovery.aws_deliveries(store, "exports")
    store.put("exports/focus/metadata/BILLING_PERIOD=2026-08/focus-Manifest.json", {"a": 1})
    with pytest.raises(SourceError, match="no dataFiles"):
        discovery.aws_deliveries(store, "exports")


# ------------------------------------------------------------------ Azure Cost Management exports


def azure_run(
    store,
    start: str,
    end: str,
    parts: int,
    *,
    export="focus",
    export_time="202609010400",
    run_id="6f0d4c52-9a43-4ad6-9d4c-2b8b1c7e0a11",
    folders=None,
    manifest_name="manifest.json",
    export_type="FocusCost",
    submitted="2026-09-01T04:00:00Z",
    run_info=True,
):
    """A run as Cost Management writes it (file partitioning on), in
    <directory>/<export>/<YYYYMMDD-YYYYMMDD>/<export time>/<run id>/ unless ``folders``."""
    folder = folders or f"costs/{export}/{start}-{end}/{export_time}/{run_id}"
    blobs = []
    for number in range(parts):
        item = store.put(f"{folder}/part_{number}_0001.csv.gz")
        blobs.append({"blobName": item.key, "byteCount": item.size, "dataRowCount": 1})
    manifest = {
        "blobCount": len(blobs),
        "dataRowCount": len(blobs),
        "exportConfig": {"exportName": export, "type": export_type, "dataVersion": "1.0r2"},
        "deliveryConfig": {"partitionData": True, "fileFormat": "Csv"},
        "blobs": blobs,
    }
    if run_info:
        manifest["runInfo"] = {
            "runId": run_id,
            "submittedTime": submitted,
            "startDate": f"{start[:4]}-{start[4:6]}-{start[6:]}T00:00:00",
            "endDate": f"{end[:4]}-{end[4:6]}-{end[6:]}T00:00:00",
        }
    store.put(f"{folder}/{manifest_name}", manifest)
    return [blob["blobName"] for blob in blobs]


def test_azure_each_period_is_its_newest_run_and_only_that_manifest_is_read():
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 2, export_time="202609010400")
    later = azure_run(
        store,
        "20260801",
        "20260831",
        3,
        export_time="202609020400",
        run_id="0a6b0e4e-3c4f-4f27-8e61-1c2d3e4f5a6b",
    )
    azure_run(store, "20260901", "20260930", 1, export_time="202609020500")
    deliveries = discovery.azure_deliveries(store, "costs")
    assert [(d.key, d.billing_period, len(d.files)) for d in deliveries] == [
        ("focus/2026-08", "2026-08", 3),
        ("focus/2026-09", "2026-09", 1),
    ]
    assert [f.key for f in deliveries[0].files] == later
    assert deliveries[0].label == "0a6b0e4e-3c4f-4f27-8e61-1c2d3e4f5a6b"
    assert len(store.reads) == 2  # the older August run's manifest was not read


@pytest.mark.parametrize(
    "folders",
    [
        "costs/focus/20260801-20260831/6f0d4c52-9a43-4ad6-9d4c-2b8b1c7e0a11",  # run id only
        "costs/focus/20260801-20260831/202609010400",  # export time only (no GUID folder)
    ],
)
def test_azure_runs_without_the_export_time_or_guid_folder(folders):
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 2, folders=folders)
    (delivery,) = discovery.azure_deliveries(store, "costs")
    assert (delivery.key, len(delivery.files), delivery.problems) == ("focus/2026-08", 2, [])


def test_azure_an_older_api_versions_underscore_manifest_is_read():
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 1, manifest_name="_manifest.json")
    (delivery,) = discovery.azure_deliveries(store, "costs")
    assert delivery.billing_period == "2026-08" and len(delivery.files) == 1


GUIDS = [
    "1b0c5d6e-0000-4000-8000-00000000000a",
    "1b0c5d6e-0000-4000-8000-00000000000b",
    "1b0c5d6e-0000-4000-8000-00000000000c",
]


def test_azure_the_month_comes_from_run_info_when_the_path_has_no_date_range():
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 1, folders=f"costs/focus/202609010400/{GUIDS[0]}")
    azure_run(
        store,
        "20260801",
        "20260831",
        2,
        folders=f"costs/focus/202609020400/{GUIDS[1]}",
        run_id=GUIDS[1],
        submitted="2026-09-02T04:00:00Z",
    )
    azure_run(store, "20260901", "20260930", 1, folders=f"costs/focus/202609020500/{GUIDS[2]}")
    deliveries = discovery.azure_deliveries(store, "costs")
    assert [(d.billing_period, len(d.files)) for d in deliveries] == [
        ("2026-08", 2),
        ("2026-09", 1),
    ]
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 1, folders="costs/focus/x", run_info=False)
    (delivery,) = discovery.azure_deliveries(store, "costs")
    assert "no runInfo.startDate" in delivery.problems[0]


def test_azure_a_run_whose_blobs_are_missing_short_or_miscounted_is_reported():
    store = MemoryStore()
    names = azure_run(store, "20260801", "20260831", 3)
    del store.objects[names[0]]
    store.put(names[1], b"half")
    (delivery,) = discovery.azure_deliveries(store, "costs")
    assert len(delivery.files) == 1
    assert any("not in the container" in problem for problem in delivery.problems)
    assert any("the manifest says" in problem for problem in delivery.problems)

    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 2)
    manifest_key = next(key for key in store.objects if key.endswith("manifest.json"))
    manifest = json.loads(store.objects[manifest_key][0])
    manifest["blobCount"] = 5
    store.put(manifest_key, manifest)
    (delivery,) = discovery.azure_deliveries(store, "costs")
    assert "counts 5 blobs but lists 2" in delivery.problems[0]


def test_azure_exports_of_another_type_are_left_out_and_said_when_alone():
    store = MemoryStore()
    azure_run(store, "20260801", "20260831", 1, export="prices", export_type="PriceSheet")
    with pytest.raises(SourceError, match="PriceSheet"):
        discovery.azure_deliveries(store, "costs")
    azure_run(store, "20260801", "20260831", 1)
    assert [d.key for d in discovery.azure_deliveries(store, "costs")] == ["focus/2026-08"]


def test_azure_no_manifest_says_which_layout_it_expected():
    store = MemoryStore()
    store.put("costs/focus/part_0_0001.csv.gz")
    with pytest.raises(SourceError, match="<YYYYMMDD-YYYYMMDD>/<export time>/<run id>"):
        discovery.azure_deliveries(store, "costs")
