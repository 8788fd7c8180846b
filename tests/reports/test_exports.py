"""/v2/costs/data_exports and /v2/data_exports/{token}: a task writes CSV and Parquet files whose
sums equal /v2/costs; the manifest links are signed and need no other credential."""

import csv
import io
import re
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rest_framework.test import APIClient

from reports.models import DataExport

from ..segments.conftest import committed
from .test_costs import PERIOD

QUERY = {
    "filter": "costs.provider IN ('aws', 'gcp')",
    "groupings": ["provider", "service"],
    "start_date": "2026-08-01",
    "end_date": "2026-09-30",
    "date_bin": "month",
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def create(client, body):
    with committed():
        response = client.post("/v2/costs/data_exports", body, format="json")
    return response


def test_export_files_sum_to_the_costs_total(token_client, imported, media):
    response = create(token_client, QUERY)
    assert response.status_code == 202, response.json()
    location = response["Location"]
    assert re.fullmatch(r"http://testserver/v2/data_exports/dta_xprt_[0-9a-f]{16}", location)
    export = token_client.get(location)
    assert export.status_code == 200
    body = export.json()
    assert set(body) == {"token", "status", "created_at", "export_type", "manifest", "attributes"}
    assert body["status"] == "completed"
    assert body["export_type"] == "cost_report"
    assert body["attributes"]["vql"] == QUERY["filter"]
    assert body["attributes"]["groupings"] == ["provider", "service"]
    assert body["manifest"]["valid_until"] and body["manifest"]["completed_at"]
    files = body["manifest"]["files"]
    assert [url.split("?")[0].rsplit("/", 1)[1] for url in files] == [
        "costs.csv",
        "costs.parquet",
    ]
    costs = token_client.get(
        "/v2/costs?filter=costs.provider IN ('aws', 'gcp')&groupings=provider,service"
        f"&date_bin=month&{PERIOD}&limit=5000"
    ).json()
    total = Decimal(costs["total_cost"]["amount"])
    anonymous = APIClient()  # the signed link is the credential
    csv_response = anonymous.get(files[0])
    assert csv_response.status_code == 200
    text = b"".join(csv_response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["accrued_at", "provider", "service", "amount", "currency"]
    assert len(rows) == len(costs["costs"])
    assert sum(Decimal(row["amount"]) for row in rows) == total
    parquet = anonymous.get(files[1])
    table = pq.read_table(pa.BufferReader(b"".join(parquet.streaming_content)))
    assert sum(table.column("amount").to_pylist()) == total


def test_a_report_export_and_its_pending_state(token_client, imported, media):
    report = token_client.post(
        "/v2/cost_reports",
        {"title": "AWS", "filter": "costs.provider = 'aws'", "groupings": "service"},
        format="json",
    ).json()
    # Without running the task (no commit), the export is pending: 202 with where to poll.
    pending = token_client.post(
        "/v2/costs/data_exports",
        {
            "cost_report_token": report["token"],
            "start_date": "2026-08-01",
            "end_date": "2026-08-31",
        },
        format="json",
    )
    assert pending.status_code == 202
    polled = token_client.get(pending["Location"])
    assert polled.status_code == 202
    assert polled["Retry-After"] == "2"
    assert polled.json()["status"] == "pending" and polled.json()["manifest"]["files"] == []
    assert polled.json()["attributes"]["report_token"] == report["token"]
    from reports.services import data_export_run

    export = DataExport.objects.get(token=polled.json()["token"])
    data_export_run(export.pk)
    data_export_run(export.pk)  # twice is harmless
    assert token_client.get(pending["Location"]).json()["status"] == "completed"


def test_bad_links_and_other_organizations(token_client, other_token_client, imported, media):
    created = create(token_client, QUERY)
    body = token_client.get(created["Location"]).json()
    url = body["manifest"]["files"][0]
    anonymous = APIClient()
    assert anonymous.get(url.replace("key=", "key=x")).status_code == 404
    other_file = url.replace("/costs.csv?", "/costs.parquet?")
    assert anonymous.get(other_file).status_code == 404
    assert other_token_client.get(created["Location"]).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({}, 400, "cost_report_token:"),
        ({**QUERY, "schema": "focus"}, 422, "schema:"),
        ({**QUERY, "date_bin": "hour"}, 400, "date_bin:"),
        ({**QUERY, "groupings": ["colour"]}, 400, "groupings:"),
        ({"cost_report_token": "rprt_0000000000000000"}, 404, "cost_report_token:"),
    ],
)
def test_export_errors(token_client, body, status, fragment, media):
    response = token_client.post("/v2/costs/data_exports", body, format="json")
    assert response.status_code == status, response.json()
    assert fragment in " ".join(response.json()["errors"])
    assert not DataExport.objects.exists()


def test_read_token_cannot_export(read_client, db):
    response = read_client.post("/v2/costs/data_exports", QUERY, format="json")
    assert response.status_code == 403


def test_exports_are_enqueued_by_the_tasks_registered_name():
    # reports.tasks imports the services; the services find the task by its name.
    from core import background
    from reports import services as report_services
    from reports import tasks as report_tasks

    task = background.task(report_services.EXPORT_TASK)
    assert task is report_tasks.run_data_export._get_current_object()
