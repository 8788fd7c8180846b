"""Live business metrics: a billable metric's daily usage, kept current as usage materializes."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from business import selectors, services
from business.models import BusinessMetricValue
from core.errors import ServiceError
from metrics import services as metric_services

from ..segments.conftest import committed
from .conftest import ingest

pytestmark = pytest.mark.django_db(transaction=False)

AUG = datetime.date(2026, 8, 1)


def event(event_id, customer, day, calls, region="eu"):
    return {
        "id": event_id,
        "code": "api_calls",
        "customer_id": customer,
        "timestamp": f"2026-08-{day:02d}T12:00:00Z",
        "properties": {"calls": calls, "region": region},
    }


@pytest.fixture
def customers(organization):
    return [
        metric_services.customer_create(organization, name=name, external_id=name.lower())
        for name in ("Acme", "Globex")
    ]


def live(organization, api_calls, label_dimension="customer"):
    with committed():
        return services.business_metric_create(
            organization,
            title="API calls",
            billable_metric=api_calls,
            label_dimension=label_dimension,
        )


def values(metric):
    return {
        (d.day, label): amount
        for d, label, amount in selectors.daily_values(metric, AUG, AUG.replace(day=31))
    }


def test_usage_appears_per_customer_as_it_is_materialized(organization, api_calls, customers):
    metric = live(organization, api_calls)
    assert metric.import_type == "billable_metric"
    ingest(
        organization,
        [event("e1", "acme", 1, 10), event("e2", "acme", 1, 5), event("e3", "globex", 2, 7)],
    )
    assert values(metric) == {(1, "acme"): Decimal(15), (2, "globex"): Decimal(7)}


def test_late_events_and_replays_count_exactly_once(organization, api_calls, customers):
    metric = live(organization, api_calls)
    batch = [event("e1", "acme", 1, 10), event("e2", "globex", 1, 3)]
    ingest(organization, batch)
    ingest(organization, batch)  # a replay: the same ids, acknowledged as duplicates
    ingest(organization, [event("late", "acme", 1, 4)])  # a late event for a past day
    ingest(organization, [event("late", "acme", 1, 4)])
    assert values(metric) == {(1, "acme"): Decimal(14), (1, "globex"): Decimal(3)}
    assert BusinessMetricValue.objects.filter(metric=metric).count() == 2


def test_labelled_by_a_matrix_dimension_sums_customers_and_keeps_other(
    organization, api_calls, customers
):
    metric = live(organization, api_calls, label_dimension="region")
    ingest(
        organization,
        [
            event("e1", "acme", 3, 10, "eu"),
            event("e2", "globex", 3, 5, "eu"),
            event("e3", "globex", 3, 2, "us"),
            event("e4", "globex", 3, 1, "mars"),
        ],
    )
    assert values(metric) == {
        (3, "eu"): Decimal(15),
        (3, "us"): Decimal(2),
        (3, "other"): Decimal(1),
    }


def test_existing_usage_is_loaded_when_the_metric_is_created(organization, api_calls, customers):
    ingest(organization, [event("e1", "acme", 5, 8)])
    metric = live(organization, api_calls)
    assert values(metric) == {(5, "acme"): Decimal(8)}


def test_a_reader_brings_pending_usage_in_before_reading(organization, api_calls, customers):
    metric = live(organization, api_calls)
    # The test transaction holds back on-commit work: no materialization task runs.
    metric_services.events_ingest(organization, [event("e1", "acme", 6, 9)])
    assert values(metric) == {}
    services.live_metric_bring_up_to_date(metric, AUG, AUG.replace(day=31))
    assert values(metric) == {(6, "acme"): Decimal(9)}


def test_a_live_metric_refuses_uploaded_values(organization, api_calls, customers):
    metric = live(organization, api_calls)
    with pytest.raises(ServiceError) as raised:
        services.values_csv_import(metric, "date,amount\n2026-08-01,1\n")
    assert raised.value.field == "csv"


def test_an_unknown_dimension_is_refused(organization, api_calls):
    with pytest.raises(ServiceError) as raised:
        services.business_metric_create(
            organization, title="x", billable_metric=api_calls, label_dimension="planet"
        )
    assert raised.value.field == "label_dimension"
    assert "customer, region" in raised.value.message


def test_a_batch_spanning_years_refreshes_month_by_month(organization, api_calls, customers):
    metric = live(organization, api_calls)
    old = {**event("old", "acme", 1, 6), "timestamp": "2024-03-15T00:00:00Z"}
    ingest(organization, [old, event("new", "globex", 2, 4)])
    found = selectors.daily_values(metric, datetime.date(2024, 1, 1), AUG.replace(day=31))
    assert found == [
        (datetime.date(2024, 3, 15), "acme", Decimal(6)),
        (datetime.date(2026, 8, 2), "globex", Decimal(4)),
    ]
    assert services.live_metric_refresh_all(metric.pk) == 2
