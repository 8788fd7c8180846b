"""A real Celery worker keeps a live business metric current (Redis + PostgreSQL): the usage it
materializes reaches the metric through the hook, late events and replays exactly once."""

import time
from decimal import Decimal

import pytest

from business import services
from business.models import BusinessMetricValue
from metrics import services as metric_services
from metrics.services import materialize


def wait_for(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


def calls(event_id, customer, day, amount):
    return {
        "id": event_id,
        "code": "api_calls",
        "customer_id": customer,
        "timestamp": f"2026-08-{day:02d}T09:00:00Z",
        "properties": {"calls": amount, "region": "eu"},
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_feeds_a_live_metric_exactly_once(
    celery_worker_process, token_client, organization, api_calls, monkeypatch
):
    monkeypatch.setattr(materialize, "MATERIALIZE_DEBOUNCE_SECONDS", 1)
    metric_services.customer_create(organization, name="Acme", external_id="acme")
    metric = services.business_metric_create(
        organization, title="API calls", billable_metric=api_calls, label_dimension="customer"
    )

    def value(day):
        found = BusinessMetricValue.objects.filter(metric=metric, date=f"2026-08-{day:02d}")
        return found.values_list("amount", flat=True).first()

    batch = [calls("e1", "acme", 1, 10), calls("e2", "acme", 1, 5)]
    response = token_client.post("/api/v1/events/ingest", {"events": batch}, format="json")
    assert response.json()["accepted"] == 2
    assert wait_for(lambda: value(1) == Decimal(15)), value(1)

    token_client.post("/api/v1/events/ingest", {"events": batch}, format="json")  # a replay
    late = [calls("late", "acme", 1, 7)]
    token_client.post("/api/v1/events/ingest", {"events": late}, format="json")
    assert wait_for(lambda: value(1) == Decimal(22)), value(1)
    time.sleep(3)  # whatever else the worker still had queued
    assert value(1) == Decimal(22)
    assert BusinessMetricValue.objects.filter(metric=metric).count() == 1
