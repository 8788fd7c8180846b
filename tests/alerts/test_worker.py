"""Deliveries through Redis to a real Celery worker (needs Redis and PostgreSQL): a failing
webhook is retried with exponential backoff while the other targets are served at once."""

import socket
import time

import pytest

from alerts.delivery import deliver
from alerts.models import Channel, ChannelKind, Delivery, DeliveryStatus


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def wait_for(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail("timed out")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_retries_back_off_in_a_real_worker_and_never_block_the_others(
    celery_workers, organization, webhook_receiver
):
    celery_workers("main", ALERTS_RETRY_BASE_SECONDS="1", ALERTS_DELIVERY_MAX_ATTEMPTS="4")
    flaky = webhook_receiver(failures=2)
    healthy = webhook_receiver()
    for name, url in (("flaky", flaky.url), ("healthy", healthy.url), ("dead", closed_port_url())):
        Channel.objects.create(
            organization=organization, name=name, kind=ChannelKind.WEBHOOK, target=url
        )
    started = time.monotonic()

    deliver(organization, event_key="anomaly:1", subject="Spike", text="t", payload={})

    wait_for(lambda: flaky.accepted())
    wait_for(
        lambda: (
            Delivery.objects.filter(status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]).count()
            == 3
        )
    )
    by_channel = {d.channel.name: d for d in Delivery.objects.select_related("channel")}
    assert by_channel["healthy"].status == DeliveryStatus.SENT
    assert by_channel["flaky"].status == DeliveryStatus.SENT
    assert by_channel["dead"].status == DeliveryStatus.FAILED
    assert by_channel["dead"].attempts == 4
    # The healthy endpoint was served before the flaky one's first retry was due.
    assert healthy.times[0] - started < flaky.times[1] - started
    # Backoff: 1 s, then 2 s between the flaky endpoint's tries (Celery's countdown).
    first_gap, second_gap = flaky.times[1] - flaky.times[0], flaky.times[2] - flaky.times[1]
    assert first_gap >= 0.9 and second_gap >= 1.9
    assert second_gap > first_gap
    log = list(by_channel["flaky"].attempt_log.values_list("succeeded", "response_status"))
    assert log == [(False, 503), (False, 503), (True, 200)]
