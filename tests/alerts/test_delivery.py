"""Delivery against real receivers: SMTP (aiosmtpd), signed webhooks, Slack payloads, retries."""

import json
import socket

import pytest

from alerts import delivery
from alerts.models import Channel, ChannelKind, Delivery, DeliveryStatus
from core.errors import ServiceError


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.ALERTS_RETRY_BASE_SECONDS = 1
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 4
    settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS = 2


def send(organization, capture, **kwargs):
    arguments = {
        "event_key": "anomaly:42",
        "subject": "EC2 jumped 4x",
        "text": "EC2 in eu-west-1 cost USD 400.00 yesterday (expected USD 100.00).",
        "payload": {"amount": "400.00", "currency": "USD"},
    }
    arguments.update(kwargs)
    with capture(execute=True):
        return delivery.deliver(organization, **arguments)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_email_reaches_a_real_smtp_server(
    organization, smtp_server, django_capture_on_commit_callbacks
):
    deliveries = send(organization, django_capture_on_commit_callbacks, emails=["Ops@Example.com"])

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "ops@example.com"
    assert message["Subject"] == "EC2 jumped 4x"
    assert "expected USD 100.00" in message.get_payload()
    deliveries[0].refresh_from_db()
    assert deliveries[0].status == DeliveryStatus.SENT
    assert deliveries[0].attempts == 1


def test_same_event_twice_is_sent_once(
    organization, smtp_server, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    first = send(organization, django_capture_on_commit_callbacks, emails=["ops@example.com"])
    second = send(organization, django_capture_on_commit_callbacks, emails=["ops@example.com"])

    assert [d.id for d in first] == [d.id for d in second]
    assert len(smtp_server.messages) == 1
    assert len(receiver.requests) == 1
    assert Delivery.objects.filter(organization=organization).count() == 2


def test_webhook_is_signed_json_a_receiver_can_verify(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver()
    channel = Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    send(organization, django_capture_on_commit_callbacks)

    _, headers, body = receiver.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert delivery.signature_valid(channel.signing_secret, headers["Costline-Signature"], body)
    assert not delivery.signature_valid("whsec_wrong", headers["Costline-Signature"], body)
    assert not delivery.signature_valid(
        channel.signing_secret, headers["Costline-Signature"], body + b" "
    )
    document = json.loads(body)
    assert document["event"] == "anomaly:42"
    assert document["payload"] == {"amount": "400.00", "currency": "USD"}
    assert headers["Costline-Event"] == "anomaly:42"


def test_slack_channel_gets_an_incoming_webhook_payload(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="#finops", kind=ChannelKind.SLACK, target=receiver.url
    )
    send(organization, django_capture_on_commit_callbacks)

    document = receiver.accepted()[0]
    assert document["text"].startswith("EC2 jumped 4x")
    assert document["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "EC2 jumped 4x"},
    }
    assert "expected USD 100.00" in document["blocks"][1]["text"]["text"]


def test_a_receiver_that_fails_then_recovers_gets_it_and_the_log_shows_both(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver(failures=2)
    Channel.objects.create(
        organization=organization, name="flaky", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    [sent] = send(organization, django_capture_on_commit_callbacks)

    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT
    assert sent.attempts == 3
    assert [status for status, _, _ in receiver.requests] == [503, 503, 200]
    log = list(sent.attempt_log.values_list("number", "succeeded", "response_status"))
    assert log == [(1, False, 503), (2, False, 503), (3, True, 200)]
    assert len(receiver.accepted()) == 1


def test_backoff_doubles_and_is_bounded(settings):
    settings.ALERTS_RETRY_BASE_SECONDS = 30
    assert [delivery.retry_delay_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert delivery.retry_delay_seconds(20) == 3600


def test_a_dead_endpoint_fails_after_bounded_tries_and_never_blocks_the_others(
    organization, smtp_server, webhook_receiver, django_capture_on_commit_callbacks
):
    healthy = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="dead", kind=ChannelKind.WEBHOOK, target=closed_port_url()
    )
    Channel.objects.create(
        organization=organization, name="healthy", kind=ChannelKind.WEBHOOK, target=healthy.url
    )
    deliveries = send(organization, django_capture_on_commit_callbacks, emails=["a@example.com"])

    by_target = {d.target_label: d for d in deliveries}
    for item in deliveries:
        item.refresh_from_db()
    dead = by_target["dead (Webhook (signed JSON))"]
    assert dead.status == DeliveryStatus.FAILED
    assert dead.attempts == 4
    assert "Unreachable" in dead.last_error
    assert by_target["healthy (Webhook (signed JSON))"].status == DeliveryStatus.SENT
    assert len(healthy.accepted()) == 1
    assert len(smtp_server.messages) == 1


def test_replay_sends_a_failed_delivery_again(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver(failures=4)
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    [failed] = send(organization, django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        delivery.delivery_replay(failed)

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert failed.attempt_log.count() == 5
    assert len(receiver.accepted()) == 1


def test_disabled_channels_are_skipped_and_bad_addresses_refused(organization):
    Channel.objects.create(
        organization=organization,
        name="off",
        kind=ChannelKind.WEBHOOK,
        target="http://127.0.0.1:9/",
        enabled=False,
    )
    assert delivery.deliver(organization, event_key="e", subject="s", text="t", payload={}) == []
    with pytest.raises(ServiceError) as error:
        delivery.deliver(
            organization, event_key="e", subject="s", text="t", payload={}, emails=["nope"]
        )
    assert error.value.field == "emails"
    assert not Delivery.objects.exists()


def test_channels_of_another_organization_are_refused(organization, other_organization):
    theirs = Channel.objects.create(
        organization=other_organization, name="x", kind=ChannelKind.EMAIL, target="x@example.com"
    )
    with pytest.raises(ServiceError):
        delivery.deliver(
            organization, event_key="e", subject="s", text="t", payload={}, channels=[theirs]
        )


def test_payloads_may_hold_decimals_and_dates(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    import datetime
    from decimal import Decimal

    receiver = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    send(
        organization,
        django_capture_on_commit_callbacks,
        payload={"amount": Decimal("12.50"), "day": datetime.date(2026, 9, 15)},
    )
    assert receiver.accepted()[0]["payload"] == {"amount": "12.50", "day": "2026-09-15"}
    with pytest.raises(ServiceError) as error:
        delivery.deliver(organization, event_key="x", subject="s", text="t", payload=[1])
    assert error.value.field == "payload"
