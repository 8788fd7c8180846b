"""Models of the alerts app: where notices go (channels), what was sent (deliveries).

A ``Delivery`` is one notice to one target (an email address or a ``Channel``) for one event.
``(organization, target_key, event_key)`` is unique: whatever calls ``alerts.delivery.deliver``
twice for the same event, the target gets it once. Each try is a ``DeliveryAttempt`` row, so the
log shows a failure and the retry that succeeded.
"""

import secrets

from django.db import models

from organizations.models import Organization


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def new_delivery_token() -> str:
    return "dlvr_" + secrets.token_hex(8)


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (signed JSON)"
    SLACK = "slack", "Slack incoming webhook"


class Channel(models.Model):
    """A place an organization's notices go: an address, a signed webhook or a Slack hook."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_channels"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    # The URL of a webhook or Slack hook, or the address of an email channel.
    target = models.CharField(max_length=1000)
    signing_secret = models.CharField(max_length=64, default=new_signing_secret)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "enabled"], name="alert_channel_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    RETRYING = "retrying", "Retrying"


class Delivery(models.Model):
    """One notice for one event to one target, and where its sending stands."""

    token = models.CharField(max_length=32, unique=True, default=new_delivery_token, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    email = models.EmailField(blank=True, default="")
    # "channel:<id>" or "email:<address>": what idempotency is keyed by (with event_key).
    target_key = models.CharField(max_length=300)
    event_key = models.CharField(max_length=255)
    subject = models.CharField(max_length=500)
    text = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "target_key", "event_key"],
                name="one_delivery_per_target_and_event",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="alert_delivery_org"),
            models.Index(fields=["status", "next_attempt_at"], name="alert_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.channel_id:
            return str(self.channel)
        return self.email or self.target_key


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    succeeded = models.BooleanField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"#{self.number} {'ok' if self.succeeded else 'failed'}"
