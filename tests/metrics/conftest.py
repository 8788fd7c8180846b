"""Fixtures of the metrics tests: a catalogue built through the services, and helpers to ingest."""

import datetime

import pytest

from metrics import services


@pytest.fixture
def family(organization):
    return services.product_family_create(organization, name="Compute")


@pytest.fixture
def product(organization, family):
    return services.product_create(organization, name="API", product_family_id=family.pk)


@pytest.fixture
def customer(organization):
    return services.customer_create(organization, name="Initech", external_id="initech")


@pytest.fixture
def other_customer(organization):
    return services.customer_create(organization, name="Hooli", external_id="hooli")


@pytest.fixture
def make_metric(organization, family):
    """Create a metric through the service; keyword arguments override the defaults."""

    def make(**overrides):
        data = {
            "name": overrides.get("code", "API calls"),
            "code": "api_calls",
            "aggregation_type": "COUNT",
            "product_family_id": family.pk,
        }
        data.update(overrides)
        return services.metric_create(organization, **data)

    return make


def at(day: str, time: str = "12:00:00") -> str:
    """An ISO timestamp in UTC, e.g. ``at("2026-01-05", "23:59:59")``."""
    return f"{day}T{time}Z"


def date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def ingest(organization, events: list[dict]):
    """Ingest through the service and insist that every event was accepted or a duplicate."""
    result = services.events_ingest(organization, events)
    assert result.rejected == [], result.rejected
    return result


def event(key, customer, day: str, time: str = "12:00:00", /, code="api_calls", **props):
    """An event dict as a client sends it; ``key`` makes its id unique."""
    return {
        "id": f"evt-{code}-{key}",
        "code": code,
        "customer_id": customer if isinstance(customer, str) else customer.external_id,
        "timestamp": at(day, time),
        "properties": props,
    }
