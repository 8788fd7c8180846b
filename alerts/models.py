"""Models of the alerts app: where notices go (channels), what was sent (deliveries).

A ``Delivery`` is one notice to one target (an email address or a ``Channel``) for one event.
``(organization, target_key, event_key)`` is unique: whatever calls ``alerts.delivery.deliver``
twice for the same event, the target gets it once. Each try is a ``DeliveryAttempt`` row, so the
log shows a failure and the retry that succeeded.
"""

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
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
    # DjangoJSONEncoder: callers may put Decimals, dates and datetimes in (written as text).
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
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


# --------------------------------------------------------------------------- anomalies


def new_anomaly_token() -> str:
    return "anmly_alrt_" + secrets.token_hex(8)


def new_anomaly_notification_token() -> str:
    return "anmly_ntfctn_" + secrets.token_hex(8)


def new_cost_alert_token() -> str:
    return "cst_alrt_" + secrets.token_hex(8)


def new_alert_event_token() -> str:
    return "cst_alrt_evnt_" + secrets.token_hex(8)


def new_watch_token() -> str:
    return "cstl_alrt_" + secrets.token_hex(8)


MONEY = {"max_digits": 28, "decimal_places": 10}


class SeriesKind(models.TextChoices):
    REPORT = "report", "Cost report total"
    SERVICE = "service", "Service in a cost report"
    ACCOUNT = "account", "Account in a cost report"
    SEGMENT = "segment", "Segment"


class AnomalyStatus(models.TextChoices):
    ACTIVE = "active", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ARCHIVED = "archived", "Archived"


class Direction(models.TextChoices):
    SPIKE = "spike", "Spike"
    DROP = "drop", "Drop"


class Anomaly(models.Model):
    """A day whose cost left its series' seasonal baseline (Vantage's AnomalyAlert)."""

    token = models.CharField(max_length=40, unique=True, default=new_anomaly_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # "report:<token>", "report:<token>|service:<provider>/<service>", "segment:<token>", ...
    series_key = models.CharField(max_length=500)
    series_kind = models.CharField(max_length=16, choices=SeriesKind.choices)
    label = models.CharField(max_length=500)
    cost_report = models.ForeignKey(
        "reports.CostReport", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    provider = models.CharField(max_length=32, blank=True, default="")
    service = models.CharField(max_length=255, blank=True, default="")
    account = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=255, null=True, blank=True)
    day = models.DateField()
    currency = models.CharField(max_length=8, default="USD")
    amount = models.DecimalField(**MONEY)
    expected_amount = models.DecimalField(**MONEY)
    previous_amount = models.DecimalField(**MONEY)
    seven_day_average = models.DecimalField(**MONEY)
    score = models.FloatField(help_text="Robust z-score: (amount − baseline) ÷ (1.4826 × MAD).")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    status = models.CharField(
        max_length=16, choices=AnomalyStatus.choices, default=AnomalyStatus.ACTIVE
    )
    feedback = models.TextField(null=True, blank=True)
    marked_expected = models.BooleanField(default=False)
    alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = "anomaly alert"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "series_key", "day"], name="one_anomaly_per_series_day"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-day"], name="anomaly_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.label} on {self.day}"

    @property
    def impact(self):
        return self.amount - self.expected_amount


class SeriesTuning(models.Model):
    """Per-series sensitivity, raised by "expected" feedback (docs/alerts.md)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    series_key = models.CharField(max_length=500)
    z_threshold = models.FloatField()
    min_impact = models.DecimalField(**MONEY)
    expected_marks = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "series_key"], name="one_tuning_per_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series_key}: z ≥ {self.z_threshold:.2f}, impact ≥ {self.min_impact}"


class AnomalyNotification(models.Model):
    """Who hears of a cost report's anomalies, past which impact (Vantage's)."""

    token = models.CharField(
        max_length=40, unique=True, default=new_anomaly_notification_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cost_report = models.ForeignKey(
        "reports.CostReport", on_delete=models.CASCADE, related_name="+"
    )
    threshold = models.PositiveIntegerField(
        default=0, help_text="Minimum impact (amount − expected) in the report's currency."
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    recipient_channels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Anomalies of {self.cost_report} ≥ {self.threshold}"


# --------------------------------------------------------------------------- cost alerts


class Interval(models.TextChoices):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class UnitType(models.TextChoices):
    CURRENCY = "currency"
    PERCENTAGE = "percentage"


class CostAlert(models.Model):
    """Vantage's CostAlert: a report's cost this period against the same days of the last one."""

    token = models.CharField(
        max_length=40, unique=True, default=new_cost_alert_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(
        "organizations.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=255)
    interval = models.CharField(max_length=8, choices=Interval.choices)
    threshold = models.DecimalField(**MONEY)
    unit_type = models.CharField(max_length=16, choices=UnitType.choices)
    minimum_threshold = models.DecimalField(null=True, blank=True, **MONEY)
    reports = models.ManyToManyField("reports.CostReport", related_name="+")
    email_recipients = models.JSONField(default=list, blank=True)
    slack_channels = models.JSONField(default=list, blank=True)
    teams_channels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title


class WatchSubject(models.TextChoices):
    SEGMENT_COST = "segment_cost", "Segment cost"
    UNIT_COST = "unit_cost", "Unit cost (segment cost ÷ metric usage)"
    METRIC_USAGE = "metric_usage", "Billable metric usage"


class WatchCondition(models.TextChoices):
    ABOVE = "above", "Daily value above a threshold"
    CHANGE_PERCENT = "change_percent", "Daily value changed by more than a percentage"
    ANOMALY = "anomaly", "Anomaly against the seasonal baseline"


class Watch(models.Model):
    """Costline's own alert on a segment's cost, a unit cost or a billable metric's usage."""

    token = models.CharField(max_length=40, unique=True, default=new_watch_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    subject = models.CharField(max_length=16, choices=WatchSubject.choices)
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    metric = models.ForeignKey(
        "metrics.BillableMetric", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    condition = models.CharField(max_length=16, choices=WatchCondition.choices)
    threshold = models.DecimalField(null=True, blank=True, **MONEY)
    email_recipients = models.JSONField(default=list, blank=True)
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "Costline alert"

    def __str__(self) -> str:
        return self.title


class AlertEvent(models.Model):
    """A cost alert or a Costline alert that fired, once per period (Vantage's CostAlertEvent)."""

    token = models.CharField(
        max_length=40, unique=True, default=new_alert_event_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cost_alert = models.ForeignKey(
        CostAlert, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    watch = models.ForeignKey(
        Watch, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    report_token = models.CharField(max_length=40, blank=True, default="")
    period_start = models.DateField()
    alert_type = models.CharField(max_length=32)
    description = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    triggered_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-triggered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cost_alert", "report_token", "period_start"],
                name="one_cost_alert_event_per_period",
                condition=models.Q(cost_alert__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["watch", "period_start"],
                name="one_watch_event_per_day",
                condition=models.Q(watch__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:80]


class DigestPreference(models.Model):
    """A member's choice about the weekly digest of one organization (no row: they get it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    weekly_digest = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="one_digest_preference_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}: {'on' if self.weekly_digest else 'off'}"
