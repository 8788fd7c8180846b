"""Costline alerts on a segment's cost, a unit cost and a billable metric's usage, judged on
known daily figures, and their /api/v1 surface."""

import datetime
from decimal import Decimal

import pytest

from alerts import watches
from alerts.models import AlertEvent, Watch
from metrics import services as metric_services

from ..segments.conftest import vql_segment
from .data import PENNY_DAY, SPIKE_DAY, START, days, ec2_cost, write_costs

CALLS = 300  # API calls on the spike day (100 on every other day)


@pytest.fixture
def ec2_segment(organization):
    write_costs(organization)
    return vql_segment(
        organization, "EC2", "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"
    )


@pytest.fixture
def api_calls(organization):
    family = metric_services.product_family_create(organization, name="Platform")
    metric = metric_services.metric_create(
        organization,
        name="API calls",
        code="api_calls",
        aggregation_type="SUM",
        aggregation_key="calls",
        product_family_id=family.pk,
    )
    customer = metric_services.customer_create(organization, name="Initech", external_id="i")
    events = [
        {
            "id": f"evt-{day}",
            "code": "api_calls",
            "customer_id": customer.external_id,
            "timestamp": f"{day}T12:00:00Z",
            "properties": {"calls": CALLS if day == SPIKE_DAY else 100},
        }
        for day in days()
    ]
    result = metric_services.events_ingest(organization, events)
    assert result.rejected == []
    return metric


def watch(organization, **fields):
    return watches.watch_create(
        organization,
        title=fields.pop("title", "Watch"),
        email_recipients=["ops@example.com"],
        **fields,
    )


def test_segment_cost_above_fires_once_on_the_day_it_crosses(
    organization, ec2_segment, smtp_server, django_capture_on_commit_callbacks
):
    ceiling = watch(
        organization,
        subject="segment_cost",
        segment=ec2_segment,
        condition="above",
        threshold=Decimal(300),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert watches.watch_evaluate(ceiling, SPIKE_DAY - datetime.timedelta(days=1)) is None
        event = watches.watch_evaluate(ceiling, SPIKE_DAY)
        assert watches.watch_evaluate(ceiling, SPIKE_DAY) is None

    assert event.metadata["value"] == float(ec2_cost(SPIKE_DAY))
    assert "cost of segment EC2 was 400.0 on 2026-09-15" in event.description
    assert AlertEvent.objects.filter(watch=ceiling).count() == 1
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"] == "Costline alert: Watch"


def test_segment_cost_anomaly_uses_the_robust_detector(organization, ec2_segment):
    spikes = watch(organization, subject="segment_cost", segment=ec2_segment, condition="anomaly")
    assert watches.watch_evaluate(spikes, PENNY_DAY) is None
    event = watches.watch_evaluate(spikes, SPIKE_DAY)
    assert event is not None and event.alert_type == "segment_cost_anomaly"
    assert event.metadata["score"] > 3.5


def test_unit_cost_is_segment_cost_over_usage(organization, ec2_segment, api_calls):
    per_call = watch(
        organization,
        subject="unit_cost",
        segment=ec2_segment,
        metric=api_calls,
        condition="above",
        threshold=Decimal("1.2"),
    )
    normal_day = SPIKE_DAY - datetime.timedelta(days=1)
    values = watches.daily_values(per_call, START, SPIKE_DAY)
    assert values[(normal_day - START).days] == pytest.approx(float(ec2_cost(normal_day)) / 100)
    assert values[-1] == pytest.approx(400 / CALLS)
    assert watches.watch_evaluate(per_call, normal_day) is None
    event = watches.watch_evaluate(per_call, SPIKE_DAY)
    assert event.metadata["value"] == pytest.approx(400 / CALLS, abs=1e-6)
    assert "cost per 1 api_calls of segment EC2" in event.description


def test_metric_usage_change_against_the_same_weekday(organization, api_calls):
    usage = watch(
        organization,
        subject="metric_usage",
        metric=api_calls,
        condition="change_percent",
        threshold=Decimal(50),
    )
    event = watches.watch_evaluate(usage, SPIKE_DAY)
    assert event.metadata["baseline"] == 100.0
    assert event.metadata["change_percent"] == 200.0
    assert watches.watch_evaluate(usage, SPIKE_DAY + datetime.timedelta(days=1)) is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "unit_cost", "condition": "above", "threshold": 1}, "segment"),
        ({"subject": "metric_usage", "condition": "above", "threshold": 1}, "metric"),
        ({"subject": "segment_cost", "condition": "above"}, "threshold"),
        ({"subject": "nothing", "condition": "above", "threshold": 1}, "subject"),
    ],
)
def test_incomplete_alerts_are_refused(organization, ec2_segment, fields, field):
    if field != "segment":
        fields["segment"] = ec2_segment
    with pytest.raises(watches.ServiceError) as error:
        watches.watch_create(organization, title="x", **fields)
    assert error.value.field == field
    assert not Watch.objects.exists()


def test_costline_alerts_api(token_client, read_client, other_token_client, ec2_segment, api_calls):
    created = token_client.post(
        "/api/v1/alerts",
        {
            "title": "Cost per call",
            "subject": "unit_cost",
            "segment": ec2_segment.token,
            "metric": api_calls.pk,
            "condition": "above",
            "threshold": "1.2",
            "email_recipients": ["ops@example.com"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["segment"] == ec2_segment.token and body["metric"] == api_calls.pk
    assert body["threshold"] == "1.2"
    token = body["token"]
    assert token_client.get(f"/api/v1/alerts/{token}").json() == body
    updated = token_client.patch(f"/api/v1/alerts/{token}", {"enabled": False}, format="json")
    assert updated.json()["enabled"] is False
    for bad in ({"threshold": "-1"}, {"threshold": ""}, {"enabled": "no"}):
        refused = token_client.patch(f"/api/v1/alerts/{token}", bad, format="json")
        assert refused.status_code == 400 and set(refused.json()) == set(bad), refused.json()
    assert token_client.get(f"/api/v1/alerts/{token}").json()["threshold"] == "1.2"
    assert token_client.get(f"/api/v1/alerts/{token}/events").json()["results"] == []
    assert (
        read_client.patch(f"/api/v1/alerts/{token}", {"title": "x"}, format="json").status_code
        == 403
    )
    assert other_token_client.get(f"/api/v1/alerts/{token}").status_code == 404
    bad = token_client.post(
        "/api/v1/alerts",
        {
            "title": "t",
            "subject": "unit_cost",
            "segment": ec2_segment.token,
            "condition": "above",
            "threshold": "1",
        },
        format="json",
    )
    assert bad.status_code == 400 and "metric" in bad.json()
    missing = token_client.post(
        "/api/v1/alerts",
        {"title": "t", "subject": "metric_usage", "metric": "bm_nope", "condition": "anomaly"},
        format="json",
    )
    assert missing.status_code == 404
    assert token_client.delete(f"/api/v1/alerts/{token}").status_code == 204
    assert Watch.objects.count() == 0


def test_channels_api(token_client, other_token_client):
    created = token_client.post(
        "/api/v1/alert-channels",
        {"name": "ops", "kind": "webhook", "target": "https://hooks.example.com/x"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["signing_secret"].startswith("whsec_")
    channel_id = created.json()["id"]
    duplicate = token_client.post(
        "/api/v1/alert-channels",
        {"name": "ops", "kind": "email", "target": "ops@example.com"},
        format="json",
    )
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    assert other_token_client.get(f"/api/v1/alert-channels/{channel_id}").status_code == 404
    bad = token_client.patch(
        f"/api/v1/alert-channels/{channel_id}", {"target": "not a url"}, format="json"
    )
    assert bad.status_code == 400 and "target" in bad.json()
    assert token_client.get(f"/api/v1/alert-channels/{channel_id}").json()["target"] == (
        "https://hooks.example.com/x"
    )
    not_an_address = token_client.post(
        "/api/v1/alert-channels", {"name": "mail", "kind": "email", "target": "0"}, format="json"
    )
    assert not_an_address.status_code == 400 and "target" in not_an_address.json()
    not_a_boolean = token_client.patch(
        f"/api/v1/alert-channels/{channel_id}", {"enabled": 0}, format="json"
    )
    assert not_a_boolean.status_code == 400 and "enabled" in not_a_boolean.json()
    assert token_client.get(f"/api/v1/alert-channels/{channel_id}").json()["enabled"] is True


def test_deliveries_api_lists_shows_and_replays(
    token_client,
    read_client,
    other_token_client,
    organization,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    from alerts.delivery import deliver
    from alerts.models import Channel, ChannelKind

    receiver = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        [sent] = deliver(organization, event_key="e", subject="Spike", text="t", payload={})
    listed = token_client.get("/api/v1/alert-deliveries?status=sent").json()
    assert [d["token"] for d in listed["results"]] == [sent.token]
    one = token_client.get(f"/api/v1/alert-deliveries/{sent.token}").json()
    assert one["channel"] == "ops" and one["status"] == "sent"
    assert [a["response_status"] for a in one["attempt_log"]] == [200]
    assert token_client.get("/api/v1/alert-deliveries?status=lost").status_code == 400
    assert read_client.post(f"/api/v1/alert-deliveries/{sent.token}/replay").status_code == 403
    assert other_token_client.get(f"/api/v1/alert-deliveries/{sent.token}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        replayed = token_client.post(f"/api/v1/alert-deliveries/{sent.token}/replay")
    assert replayed.status_code == 202
    assert len(receiver.accepted()) == 2
    again = token_client.get(f"/api/v1/alert-deliveries/{sent.token}").json()
    assert [a["number"] for a in again["attempt_log"]] == [1, 2]
    # Not sent yet (its task waits for the commit): replaying it now is a conflict.
    [queued] = deliver(organization, event_key="e2", subject="Drop", text="t", payload={})
    conflict = token_client.post(f"/api/v1/alert-deliveries/{queued.token}/replay")
    assert conflict.status_code == 409
