"""A data export sent through Redis to a real Celery worker (needs Redis and PostgreSQL)."""

import time
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from costs.services import focus_import, integration_create


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_export_runs_in_a_real_worker(
    celery_workers, organization, token_client, focus_files, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    celery_workers("main", MEDIA_ROOT=str(tmp_path))
    focus_import(integration_create(organization, "aws", "AWS"), focus_files["aws"])
    query = {
        "filter": "costs.provider = 'aws'",
        "groupings": "service",
        "start_date": "2026-08-01",
        "end_date": "2026-09-30",
        "date_bin": "month",
    }
    created = token_client.post("/v2/costs/data_exports", query, format="json")
    assert created.status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        polled = token_client.get(created["Location"])
        if polled.status_code == 200:
            break
        assert polled.status_code == 202
        time.sleep(0.3)
    body = polled.json()
    assert body["status"] == "completed", body
    download = APIClient().get(body["manifest"]["files"][0])
    lines = b"".join(download.streaming_content).decode().splitlines()[1:]
    total = sum(Decimal(line.split(",")[-2]) for line in lines)
    costs = token_client.get(
        "/v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=month"
        "&start_date=2026-08-01&end_date=2026-09-30&limit=5000"
    ).json()
    assert total == Decimal(costs["total_cost"]["amount"])
