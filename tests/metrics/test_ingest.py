"""Event ingestion through the service: rejections by index, replays, customers, time."""

import datetime

import pytest
from django.utils import timezone

from core.errors import ServiceError
from metrics import services
from metrics.models import UsageDirtyDay, UsageEvent
from metrics.services import materialize
from tests.metrics.conftest import event

pytestmark = pytest.mark.django_db


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_each_invalid_event_is_reported_by_index_and_the_valid_ones_are_stored(
    organization, other_organization, customer, make_metric
):
    make_metric(code="tokens", aggregation_type="SUM", aggregation_key="n")
    make_metric(code="users", aggregation_type="COUNT_DISTINCT", aggregation_key="user")
    stranger = services.customer_create(other_organization, name="X", external_id="stranger")
    now = timezone.now()
    events = [
        event(0, customer, "2026-03-01", code="tokens", n=1),  # valid
        "not an object",
        {"code": "tokens", "customer_id": "initech", "timestamp": "2026-03-01T00:00:00Z"},
        {**event(3, customer, "2026-03-01", code="tokens", n=1), "id": "x" * 256},
        event(4, customer, "2026-03-01", code="bad code!", n=1),
        event(5, "nobody", "2026-03-01", code="tokens", n=1),
        {**event(6, customer, "2026-03-01", code="tokens", n=1), "customer_id": stranger.pk},
        {**event(7, customer, "2026-03-01", code="tokens", n=1), "customer_id": None},
        {**event(8, customer, "2026-03-01", code="tokens", n=1), "timestamp": "yesterday"},
        {**event(9, customer, "2026-03-01", code="tokens", n=1), "timestamp": 1767225600},
        {
            **event(10, customer, "2026-03-01", code="tokens", n=1),
            "timestamp": _iso(now + datetime.timedelta(hours=25)),
        },
        {**event(11, customer, "2026-03-01", code="tokens"), "properties": ["n", 1]},
        event(12, customer, "2026-03-01", code="tokens"),
        event(13, customer, "2026-03-01", code="tokens", n="twelve"),
        event(14, customer, "2026-03-01", code="users", user={"id": 1}),
        {
            **event(15, customer, "2026-03-01", code="tokens", n="2.5"),
            "timestamp": _iso(now + datetime.timedelta(hours=23)),
        },  # valid: within 24 h
    ]
    result = services.events_ingest(organization, events)
    assert [(r["index"], r["reason"], r["field"]) for r in result.rejected] == [
        (1, "invalid_event", None),
        (2, "invalid_id", "id"),
        (3, "invalid_id", "id"),
        (4, "invalid_code", "code"),
        (5, "unknown_customer", "customer_id"),
        (6, "unknown_customer", "customer_id"),  # another organization's customer
        (7, "unknown_customer", "customer_id"),
        (8, "bad_timestamp", "timestamp"),
        (9, "bad_timestamp", "timestamp"),
        (10, "too_far_in_future", "timestamp"),
        (11, "invalid_properties", "properties"),
        (12, "missing_property", "properties.n"),
        (13, "invalid_property", "properties.n"),
        (14, "invalid_property", "properties.user"),
    ]
    assert all(r["message"] for r in result.rejected)
    assert result.rejected[4]["id"] == "evt-tokens-5"
    assert (result.accepted, result.duplicates) == (2, 0)
    assert set(UsageEvent.objects.values_list("event_id", flat=True)) == {
        "evt-tokens-0",
        "evt-tokens-15",
    }


def test_customer_is_found_by_our_id_or_by_external_id(organization, customer):
    result = services.events_ingest(
        organization,
        [event(1, customer.pk, "2026-03-01"), event(2, customer.external_id, "2026-03-01")],
    )
    assert result.accepted == 2
    assert set(UsageEvent.objects.values_list("customer_id", flat=True)) == {customer.pk}


def test_replays_within_a_batch_and_across_batches_are_acknowledged_once(organization, customer):
    first = services.events_ingest(
        organization, [event(1, customer, "2026-03-01"), event(1, customer, "2026-03-01")]
    )
    assert (first.accepted, first.duplicates, first.rejected) == (1, 1, [])
    # Same id with other content: still the same event, not stored again.
    changed = {**event(1, customer, "2026-03-02"), "properties": {"n": 99}}
    second = services.events_ingest(organization, [changed, event(2, customer, "2026-03-01")])
    assert (second.accepted, second.duplicates) == (1, 1)
    assert UsageEvent.objects.count() == 2
    assert UsageEvent.objects.get(event_id="evt-api_calls-1").timestamp.day == 1


def test_event_ids_are_unique_per_organization_only(organization, other_organization, customer):
    services.customer_create(other_organization, name="Initech too", external_id="initech")
    assert services.events_ingest(organization, [event(1, customer, "2026-03-01")]).accepted == 1
    assert (
        services.events_ingest(other_organization, [event(1, "initech", "2026-03-01")]).accepted
        == 1
    )


def test_events_of_codes_without_an_active_metric_are_kept_unchecked(
    organization, customer, make_metric
):
    metric = make_metric(code="tokens", aggregation_type="SUM", aggregation_key="n")
    services.metric_archive(metric)
    result = services.events_ingest(
        organization,
        [
            event(1, customer, "2026-03-01", code="tokens"),
            event(2, customer, "2026-03-01", code="unknown"),
        ],
    )
    assert (result.accepted, result.rejected) == (2, [])


def test_timestamps_are_read_in_utc(organization, customer):
    services.events_ingest(
        organization,
        [
            {**event(1, customer, "2026-03-01"), "timestamp": "2026-03-02T01:00:00+02:00"},
            {**event(2, customer, "2026-03-01"), "timestamp": "2026-03-02T01:00:00"},
            {**event(3, customer, "2026-03-01"), "timestamp": "2026-03-02"},
        ],
    )
    stored = dict(UsageEvent.objects.values_list("event_id", "timestamp"))
    assert stored["evt-api_calls-1"] == datetime.datetime(2026, 3, 1, 23, tzinfo=datetime.UTC)
    assert stored["evt-api_calls-2"] == datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.UTC)
    assert stored["evt-api_calls-3"] == datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
    # Each event marks its own UTC day for materialization.
    assert set(UsageDirtyDay.objects.values_list("day", flat=True)) == {
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 2),
    }


def test_the_batch_envelope_is_checked_first(organization, customer):
    with pytest.raises(ServiceError, match="list"):
        services.events_ingest(organization, {"id": "x"})
    with pytest.raises(ServiceError, match="500"):
        services.events_ingest(organization, [event(i, customer, "2026-03-01") for i in range(501)])
    assert (
        services.events_ingest(
            organization, [event(i, customer, "2026-03-01") for i in range(500)]
        ).accepted
        == 500
    )


def test_a_failing_write_leaves_no_event_behind(organization, customer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(materialize, "mark_dirty", broken)
    with pytest.raises(RuntimeError):
        services.events_ingest(organization, [event(1, customer, "2026-03-01")])
    assert not UsageEvent.objects.exists()


def test_values_the_database_cannot_store_are_rejected_not_crashed_on(organization, customer):
    result = services.events_ingest(
        organization,
        [
            {**event(1, customer, "2026-03-01"), "id": "a\x00b"},
            {**event(2, customer, "2026-03-01"), "properties": {"k": "a\x00"}},
            {**event(3, customer, "2026-03-01"), "properties": {"k\x00": 1}},
            {**event(4, customer, "2026-03-01"), "properties": {"k": [float("nan")]}},
            {**event(5, customer, "2026-03-01"), "customer_id": "init\x00ech"},
            {**event(6, customer, "2026-03-01"), "timestamp": "0001-01-01T00:00:00+01:00"},
            event(7, customer, "2026-03-01", k="\\u0000 written out is plain text"),
        ],
    )
    assert [(r["index"], r["reason"]) for r in result.rejected] == [
        (0, "invalid_id"),
        (1, "invalid_properties"),
        (2, "invalid_properties"),
        (3, "invalid_properties"),
        (4, "unknown_customer"),
        (5, "bad_timestamp"),
    ]
    assert result.accepted == 1
