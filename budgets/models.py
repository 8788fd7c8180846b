"""Budgets (Vantage's Budget) with their periods, budget alerts and the crossings they fired,
stored cost forecasts and report forecasts (Vantage's scenario-model ReportForecast).

A budget tracks a cost report or a segment (Costline: Vantage's ``cost_report_token`` also
takes a segment's ``report_token``), or, when it has children, the sum of its children.
"""

import secrets

from django.conf import settings
from django.db import models

from organizations.models import Organization, Workspace
from reports.models import CostReport
from segments.models import Segment


def new_budget_token() -> str:
    return "bdgt_" + secrets.token_hex(8)


def new_budget_alert_token() -> str:
    return "bdgt_alrt_" + secrets.token_hex(8)


def new_report_forecast_token() -> str:
    return "rprt_fcst_" + secrets.token_hex(8)


class Budget(models.Model):
    """An amount per period for the costs of a cost report or a segment (or of its children)."""

    token = models.CharField(max_length=32, unique=True, default=new_budget_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    # What it tracks: one of the two, or neither when it has children (a hierarchical budget).
    # Deleting the report or segment leaves the budget, tracking nothing until edited.
    cost_report = models.ForeignKey(
        CostReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="budget_org")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_report__isnull=True) | models.Q(segment__isnull=True),
                name="budget_tracks_one_thing",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tracked_token(self) -> str | None:
        """Vantage's ``cost_report_token``: the report's token, or the segment's report token."""
        if self.cost_report_id:
            return self.cost_report.token
        if self.segment_id:
            return self.segment.report_token
        return None


class BudgetPeriod(models.Model):
    """The amount a budget allows between two days (both included)."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="periods")
    start_date = models.DateField()
    end_date = models.DateField()
    amount = models.DecimalField(max_digits=20, decimal_places=6)

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "start_date"], name="budget_period_start"),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="budget_period_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date} to {self.end_date}: {self.amount}"


class PeriodToTrack(models.TextChoices):
    START_OF_THE_MONTH = "start_of_the_month"
    END_OF_THE_MONTH = "end_of_the_month"


class AlertBasis(models.TextChoices):
    ACTUAL = "actual", "Actual costs reach it"
    FORECAST = "forecast", "The forecast reaches it"


class BudgetAlert(models.Model):
    """Tell people when a budget's actual costs (or, Costline's addition, its forecast for the
    period) reach ``threshold`` percent of a period's amount."""

    token = models.CharField(
        max_length=32, unique=True, default=new_budget_alert_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    budgets = models.ManyToManyField(Budget, related_name="alerts")
    threshold = models.PositiveIntegerField(help_text="Percent of the period's amount.")
    # Vantage's budget alerts watch the actual; Costline can also speak first, on the forecast.
    basis = models.CharField(max_length=16, choices=AlertBasis.choices, default=AlertBasis.ACTUAL)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    duration_in_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Only in these first/last days of the month; empty: all."
    )
    period_to_track = models.CharField(
        max_length=32, choices=PeriodToTrack.choices, default=PeriodToTrack.START_OF_THE_MONTH
    )
    recipient_channels = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.threshold}% alert {self.token}"


class BudgetAlertEvent(models.Model):
    """One crossing: a budget's actual reached an alert's threshold in one period. The unique
    constraint is what makes an alert fire once per crossing, whatever runs the evaluation
    and however often."""

    alert = models.ForeignKey(BudgetAlert, on_delete=models.CASCADE, related_name="events")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alert_events")
    period_start = models.DateField()
    period_end = models.DateField()
    threshold = models.PositiveIntegerField()
    basis = models.CharField(max_length=16, choices=AlertBasis.choices, default=AlertBasis.ACTUAL)
    amount = models.DecimalField(max_digits=20, decimal_places=6)
    actual = models.DecimalField(max_digits=20, decimal_places=6)
    forecast = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=8, default="USD")
    subject = models.CharField(max_length=255)
    message = models.TextField()
    fired_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "budget", "period_start", "threshold", "basis"],
                name="budget_alert_fires_once_per_crossing",
            )
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def event_key(self) -> str:
        key = f"budget_alert:{self.alert_id}:{self.budget_id}:{self.period_start}:{self.threshold}"
        return key if self.basis == AlertBasis.ACTUAL else f"{key}:{self.basis}"


class CostForecast(models.Model):
    """A stored daily forecast of a cost report's (or segment's) costs, from the day after its
    last cost through the end of that month and the next ones, with a prediction interval."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cost_report = models.ForeignKey(
        CostReport, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    provider = models.CharField(max_length=32, default="all")
    service = models.CharField(max_length=255, default="all")
    method = models.CharField(max_length=32)
    currency = models.CharField(max_length=8, default="USD")
    history_start = models.DateField(null=True, blank=True)
    history_end = models.DateField(null=True, blank=True, help_text="Last day with costs.")
    interval_level = models.FloatField(default=0.95)
    # [[day ISO, amount, lower, upper], ...] as decimal strings, one per forecast day.
    points = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cost_report", "provider", "service"],
                condition=models.Q(cost_report__isnull=False),
                name="forecast_once_per_report",
            ),
            models.UniqueConstraint(
                fields=["segment", "provider", "service"],
                condition=models.Q(segment__isnull=False),
                name="forecast_once_per_segment",
            ),
        ]

    def __str__(self) -> str:
        subject = self.cost_report or self.segment
        return f"Forecast of {subject} ({self.method})"


class ReportForecast(models.Model):
    """Vantage's scenario-model ReportForecast: a named forecast choice for a cost report."""

    token = models.CharField(
        max_length=32, unique=True, default=new_report_forecast_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cost_report = models.ForeignKey(
        CostReport, on_delete=models.CASCADE, related_name="report_forecasts"
    )
    title = models.CharField(max_length=255)
    scenario_model_tokens = models.JSONField(default=list, blank=True)
    business_metric_token = models.CharField(max_length=64, null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cost_report"],
                condition=models.Q(is_default=True),
                name="one_default_report_forecast",
            )
        ]

    def __str__(self) -> str:
        return self.title
