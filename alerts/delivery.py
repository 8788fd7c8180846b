"""Delivery: how every notice of Costline (anomalies, cost alerts, budgets, digests) goes out.

``deliver`` is the one entry: it records one ``Delivery`` per target (each email address given,
and each enabled ``Channel`` of the organization, or the channels given) and enqueues its
sending through Celery. It is idempotent by ``(target, event_key)``: a caller that fires the same
event twice (a task run twice, two workers racing) gets the existing rows back and nothing is
sent again. Each delivery is its own task, so a failing endpoint only delays itself.

Wire formats:

- email: Django's mail framework (``send_mail``), subject and plain text;
- webhook: ``POST`` of JSON ``{"id", "event", "subject", "text", "payload", "created_at"}``,
  signed with the channel's secret: ``Costline-Signature: t=<unix seconds>,v1=<hex>`` where
  ``<hex>`` is HMAC-SHA256(secret, "<t>.<raw body>"); receivers recompute it and reject a stale
  ``t`` (see docs/alerts.md);
- Slack: a Slack incoming-webhook body ``{"text": ..., "blocks": [...]}``.

A failed try is retried with exponential backoff (``ALERTS_RETRY_BASE_SECONDS`` × 2^(n-1), at
most ``ALERTS_DELIVERY_MAX_ATTEMPTS`` tries), then the delivery is ``failed``; ``delivery_replay``
sends it again on demand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from core.background import task
from core.errors import ConflictError, ServiceError
from organizations.models import Organization

from .models import Channel, ChannelKind, Delivery, DeliveryAttempt, DeliveryStatus

SEND_TASK = "alerts.send_delivery"
SIGNATURE_HEADER = "Costline-Signature"
MAX_ERROR_CHARS = 2000


def max_attempts() -> int:
    return getattr(settings, "ALERTS_DELIVERY_MAX_ATTEMPTS", 5)


def retry_delay_seconds(attempts: int) -> int:
    """Exponential backoff after ``attempts`` failed tries, capped at an hour."""
    base = getattr(settings, "ALERTS_RETRY_BASE_SECONDS", 30)
    return min(base * 2 ** max(attempts - 1, 0), 3600)


def normalized_emails(emails: Iterable[str]) -> list[str]:
    addresses = []
    for raw in emails or ():
        address = str(raw).strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ServiceError(
                f'"{raw}" is not an email address.', field="emails", code="invalid"
            ) from None
        if address not in addresses:
            addresses.append(address)
    return addresses


def deliver(
    organization: Organization,
    *,
    event_key: str,
    subject: str,
    text: str,
    payload: dict,
    emails: Iterable[str] = (),
    channels: Iterable[Channel] | None = None,
) -> list[Delivery]:
    """One delivery per target for ``event_key``, each sent once, sending enqueued on commit."""
    if not event_key or len(event_key) > 255:
        raise ServiceError("Must be 1 to 255 characters.", field="event_key", code="invalid")
    if not isinstance(payload, dict):
        raise ServiceError("A JSON object.", field="payload", code="invalid")
    if channels is None:
        channels = Channel.objects.filter(organization=organization, enabled=True)
    channels = list(channels)
    if any(channel.organization_id != organization.id for channel in channels):
        raise ServiceError("A channel of another organization.", field="channels", code="invalid")
    targets = [(f"channel:{channel.id}", channel, "") for channel in channels]
    targets += [(f"email:{address}", None, address) for address in normalized_emails(emails)]

    deliveries = []
    with transaction.atomic():
        for target_key, channel, address in targets:
            delivery, created = Delivery.objects.get_or_create(
                organization=organization,
                target_key=target_key,
                event_key=event_key,
                defaults={
                    "channel": channel,
                    "email": address,
                    "subject": subject[:500],
                    "text": text,
                    "payload": payload,
                },
            )
            if created:
                enqueue_send(delivery.id)
            deliveries.append(delivery)
    return deliveries


def enqueue_send(delivery_id: int, countdown: int | None = None) -> None:
    transaction.on_commit(lambda: task(SEND_TASK).apply_async((delivery_id,), countdown=countdown))


# --------------------------------------------------------------------------- wire formats


def webhook_body(delivery: Delivery) -> bytes:
    document = {
        "id": delivery.token,
        "event": delivery.event_key,
        "subject": delivery.subject,
        "text": delivery.text,
        "payload": delivery.payload,
        "created_at": delivery.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(document, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def slack_body(delivery: Delivery) -> bytes:
    """Slack's incoming-webhook message: a fallback text and blocks (the caller's, or ours)."""
    blocks = delivery.payload.get("blocks") if isinstance(delivery.payload, dict) else None
    if not isinstance(blocks, list):
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": delivery.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": delivery.text[:3000] or " "}},
        ]
    return json.dumps({"text": f"{delivery.subject}\n{delivery.text}", "blocks": blocks}).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def signature_valid(secret: str, header: str, body: bytes, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: recompute the signature, refuse a stale timestamp."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class SendError(Exception):
    def __init__(self, message: str, response_status: int | None = None):
        super().__init__(message)
        self.response_status = response_status


def post_json(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "Costline-Alerts/1")
    for name, value in headers.items():
        request.add_header(name, value)
    timeout = getattr(settings, "ALERTS_WEBHOOK_TIMEOUT_SECONDS", 5)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        raise SendError(f"HTTP {error.code} from the endpoint", error.code) from None
    except (urllib.error.URLError, OSError) as error:
        raise SendError(f"Unreachable: {getattr(error, 'reason', error)}") from None


def send_once(delivery: Delivery) -> int | None:
    """Send one delivery over its wire; the HTTP status (webhooks) or None; SendError on failure."""
    channel = delivery.channel
    if channel is None and delivery.email:
        address = delivery.email
    elif channel is not None and channel.kind == ChannelKind.EMAIL:
        address = channel.target
    else:
        address = None
    if address is not None:
        try:
            send_mail(delivery.subject, delivery.text, settings.DEFAULT_FROM_EMAIL, [address])
        except Exception as error:  # SMTP and socket errors alike: recorded, retried
            raise SendError(f"Email not accepted: {error}") from None
        return None
    if channel is None:
        raise SendError("Its channel was deleted.")
    if channel.kind == ChannelKind.SLACK:
        return post_json(channel.target, slack_body(delivery), {})
    body = webhook_body(delivery)
    headers = {
        SIGNATURE_HEADER: signature(channel.signing_secret, int(time.time()), body),
        "Costline-Event": delivery.event_key,
        "Costline-Delivery": delivery.token,
    }
    return post_json(channel.target, body, headers)


# --------------------------------------------------------------------------- services


def delivery_send(delivery_id: int) -> Delivery | None:
    """One try at a queued or retrying delivery; safe to run twice (a sent one is left alone)."""
    with transaction.atomic():
        delivery = (
            # Lock the delivery only: its channel may be null (an outer join PostgreSQL
            # cannot lock).
            Delivery.objects.select_for_update(of=("self",))
            .select_related("channel")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            return delivery
        if delivery.channel is not None and not delivery.channel.enabled:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The channel is disabled."
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return delivery
        started_at = timezone.now()
        clock = time.monotonic()
        error: SendError | None = None
        try:
            response_status = send_once(delivery)
        except SendError as failure:
            error, response_status = failure, failure.response_status
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            # Numbered across replays: the log reads #1 failed, #2 failed, #3 ok.
            number=delivery.attempt_log.count() + 1,
            succeeded=error is None,
            response_status=response_status,
            error=str(error or "")[:MAX_ERROR_CHARS],
            started_at=started_at,
            duration_ms=int((time.monotonic() - clock) * 1000),
        )
        if error is None:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.next_attempt_at = None
            delivery.last_error = ""
        else:
            delivery.last_error = str(error)[:MAX_ERROR_CHARS]
            if delivery.attempts >= max_attempts():
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delay = retry_delay_seconds(delivery.attempts)
                delivery.status = DeliveryStatus.RETRYING
                delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
                enqueue_send(delivery.id, countdown=delay)
        delivery.save()
    return delivery


def delivery_replay(delivery: Delivery) -> Delivery:
    """Send a failed delivery (or a sent one the receiver lost) again: a new round of tries."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(id=delivery.id)
        if delivery.status in (DeliveryStatus.QUEUED, DeliveryStatus.RETRYING):
            raise ConflictError("This delivery is still being sent.", field="delivery")
        delivery.status = DeliveryStatus.QUEUED
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        enqueue_send(delivery.id)
    return delivery


def deliveries_retry_due(now=None) -> int:
    """Enqueue retries whose time has come and queued ones never picked up (a lost message)."""
    now = now or timezone.now()
    stale = now - timedelta(minutes=10)
    due = list(
        Delivery.objects.filter(
            status=DeliveryStatus.RETRYING, next_attempt_at__lte=now - timedelta(minutes=1)
        ).values_list("id", flat=True)
    ) + list(
        Delivery.objects.filter(status=DeliveryStatus.QUEUED, updated_at__lte=stale).values_list(
            "id", flat=True
        )
    )
    for delivery_id in due:
        task(SEND_TASK).apply_async((delivery_id,))
    return len(due)
