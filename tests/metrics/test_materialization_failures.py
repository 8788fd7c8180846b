"""Values usage cannot hold: refused at ingestion, and a poisoned day that got in anyway (stored
before its metric existed, or written around the service) never stops other days or tenants."""

import datetime
import logging

import pytest
from django.db import connection
from django.utils import timezone

from metrics import selectors, services
from metrics.admin import UsageDirtyDayAdmin
from metrics.models import UsageDaily, UsageDirtyDay, UsageEvent
from tests.factories import OrganizationFactory
from tests.metrics.conftest import date, event, ingest

pytestmark = pytest.mark.django_db

TOO_BIG = ["1e999999999", "1" + "0" * 30, 10**30, "1e18", -(10**18)]


@pytest.mark.parametrize("value", TOO_BIG)
def test_a_value_the_usage_columns_cannot_hold_is_rejected_naming_the_property(
    organization, customer, make_metric, value
):
    make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    result = services.events_ingest(
        organization,
        [
            event("big", customer, "2026-03-01", code="calls", n=value),
            event("ok", customer, "2026-03-01", code="calls", n="999999999999999999.5"),
        ],
    )
    assert result.accepted == 1
    [rejected] = result.rejected
    assert rejected["id"] == "evt-calls-big"
    assert rejected["reason"] == "value_out_of_range"
    assert rejected["field"] == "properties.n"
    assert "'n'" in rejected["message"] and "10^18" in rejected["message"]
    assert not UsageEvent.objects.filter(event_id="evt-calls-big").exists()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", float("nan"), float("inf")])
def test_nan_and_infinities_are_rejected(organization, customer, make_metric, value):
    make_metric(code="calls", aggregation_type="MAX", aggregation_key="n")
    result = services.events_ingest(
        organization, [event("x", customer, "2026-03-01", code="calls", n=value)]
    )
    assert result.accepted == 0
    assert result.rejected[0]["field"] == "properties.n"


def test_the_api_reports_the_rejection(token_client, organization, customer, make_metric):
    make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    response = token_client.post(
        "/api/v1/events/ingest",
        {"events": [event("x", customer, "2026-03-01", code="calls", n="1e999999999")]},
        format="json",
    )
    assert response.status_code in (200, 207), response.json()
    body = response.json()
    assert body["rejected"][0]["field"] == "properties.n"
    assert body["rejected"][0]["reason"] == "value_out_of_range"


def poison(organization, customer, day: str, value, code="calls", count=2):
    """Store events around the service, as old data or a later metric would have them. Two
    1e999999999 overflow the sum on any database; one 10^30 overflows PostgreSQL's column."""
    for index in range(count):
        UsageEvent.objects.create(
            organization=organization,
            event_id=f"poison-{day}-{customer.pk}-{index}",
            code=code,
            customer=customer,
            timestamp=datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00"),
            properties={"n": value},
            ingested_at=timezone.now(),
        )
    UsageDirtyDay.objects.get_or_create(
        organization=organization,
        code=code,
        customer=customer,
        day=date(day),
        defaults={"marked_at": timezone.now()},
    )


@pytest.fixture
def globex():
    """Another tenant with a metric and a customer of its own."""
    org = OrganizationFactory(name="Globex")
    family = services.product_family_create(org, name="Compute")
    metric = services.metric_create(
        org,
        name="calls",
        code="calls",
        aggregation_type="SUM",
        aggregation_key="n",
        product_family_id=family.pk,
    )
    customer = services.customer_create(org, name="Hooli", external_id="hooli")
    return org, metric, customer


@pytest.mark.parametrize(
    "value, count",
    [
        ("1e999999999", 2),
        pytest.param(
            10**30,
            1,
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql", reason="SQLite stores any number"
            ),
        ),
    ],
)
def test_a_poisoned_day_does_not_stop_other_days_nor_other_tenants(
    organization, customer, other_customer, make_metric, globex, value, count, caplog
):
    metric = make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    other_org, other_metric, other_org_customer = globex
    ingest(organization, [event(1, customer, "2026-03-02", code="calls", n=5)])
    ingest(organization, [event(2, other_customer, "2026-03-01", code="calls", n=7)])
    ingest(other_org, [event(3, other_org_customer, "2026-03-01", code="calls", n=11)])
    poison(organization, customer, "2026-03-01", value, count=count)

    with caplog.at_level(logging.ERROR, logger="costline.metrics"):
        done = services.usage_materialize_run()  # beat's run: every organization together

    assert done == 3
    # The other tenant, the same tenant's other day and other customer on the poisoned day:
    assert UsageDaily.objects.get(metric=other_metric).value_sum == 11
    assert UsageDaily.objects.get(metric=metric, day=date("2026-03-02")).value_sum == 5
    assert UsageDaily.objects.get(metric=metric, customer=other_customer).value_sum == 7
    # The poisoned day is kept with its reason, logged, and shown as a problem.
    failed = UsageDirtyDay.objects.get()
    assert (failed.customer_id, failed.day, failed.attempts) == (customer.pk, date("2026-03-01"), 1)
    assert failed.last_error and failed.failed_at is not None
    assert any("materialization failed" in r.getMessage() for r in caplog.records)
    problems = selectors.materialization_problems()
    assert (problems["count"], problems["failing"], problems["given_up"]) == (1, 1, 0)
    assert problems["days"][0]["code"] == "calls"
    assert problems["days"][0]["customer_id"] == customer.pk


def test_failed_days_are_tried_a_bounded_number_of_times_then_left_for_an_operator(
    organization, customer, make_metric
):
    make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    poison(organization, customer, "2026-03-01", "1e999999999")
    for _ in range(UsageDirtyDay.MAX_ATTEMPTS + 3):
        services.usage_materialize_run()
    row = UsageDirtyDay.objects.get()
    assert row.attempts == UsageDirtyDay.MAX_ATTEMPTS
    assert selectors.materialization_problems()["given_up"] == 1
    # A reader of the range is not blocked either: it reads what is materialized.
    services.usage_refresh(row_metric(organization), date("2026-03-01"), date("2026-03-01"))
    series = selectors.usage_series(
        row_metric(organization), organization, "day", date("2026-03-01"), date("2026-03-01")
    )
    assert [(p.start, p.value) for p in series] == [(date("2026-03-01"), 0)]

    # The operator removes the bad event and retries from the admin.
    UsageEvent.objects.filter(event_id__startswith="poison-").delete()
    admin = UsageDirtyDayAdmin(UsageDirtyDay, None)
    admin.message_user = lambda *args, **kwargs: None
    admin.retry(None, UsageDirtyDay.objects.all())
    assert UsageDirtyDay.objects.get().attempts == 0
    services.usage_materialize_run()
    assert not UsageDirtyDay.objects.exists()
    assert selectors.materialization_problems()["count"] == 0


def row_metric(organization):
    from metrics.models import BillableMetric

    return BillableMetric.objects.get(organization=organization, code="calls")
