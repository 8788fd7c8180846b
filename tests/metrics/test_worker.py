"""A real Celery worker materializes usage ingested through the API (Redis + PostgreSQL)."""

import time
from decimal import Decimal

import pytest

from metrics.models import UsageDaily, UsageDirtyDay
from metrics.services import materialize
from tests.metrics.conftest import event


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_materializes_and_the_usage_api_returns_the_raw_figures(
    celery_worker_process,
    token_client,
    organization,
    customer,
    other_customer,
    make_metric,
    monkeypatch,
):
    monkeypatch.setattr(materialize, "MATERIALIZE_DEBOUNCE_SECONDS", 1)
    metric = make_metric(
        code="gpu",
        aggregation_type="MEAN",
        aggregation_key="util",
        segmentation_matrix={"key": "zone", "values": ["a", "b"]},
    )
    raw = [
        (customer, "2026-03-01", "23:59:59", "a", 10),
        (customer, "2026-03-02", "00:00:00", "a", 20),
        (customer, "2026-03-02", "06:00:00", "a", "60"),
        (customer, "2026-03-02", "07:00:00", "b", 5),
        (other_customer, "2026-03-02", "07:00:00", "a", 99),
    ]
    events = [
        event(i, who, day, time, code="gpu", zone=zone, util=util)
        for i, (who, day, time, zone, util) in enumerate(raw)
    ]
    response = token_client.post("/api/v1/events/ingest", {"events": events}, format="json")
    assert response.json() == {"accepted": 5, "duplicates": 0, "rejected": []}

    deadline = time.monotonic() + 60
    while UsageDirtyDay.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not UsageDirtyDay.objects.exists(), "the worker did not drain the dirty days"
    assert UsageDaily.objects.filter(metric=metric).count() == 4

    usage = token_client.get(
        f"/api/v1/metrics/{metric.pk}/usage?customer_id={customer.pk}"
        "&window=month&from=2026-03-01&to=2026-03-31"
    ).json()
    [period] = usage["results"][0]["periods"]
    got = {line["dimensions"]["zone"]: Decimal(str(line["value"])) for line in period["lines"]}
    mine = [(zone, Decimal(str(util))) for who, _d, _t, zone, util in raw if who == customer]
    expected = {
        zone: sum(v for z, v in mine if z == zone) / len([v for z, v in mine if z == zone])
        for zone in ("a", "b")
    }
    assert got == expected  # a: (10 + 20 + 60) / 3 = 30, b: 5
