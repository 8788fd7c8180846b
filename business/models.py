"""Business metrics (Vantage's BusinessMetric), their daily values, and what is built on them.

A business metric is a daily series of amounts, optionally split by a label (a customer, a
team, a plan). Its values come from one of three sources, all stored the same way in
``BusinessMetricValue`` so that every reader (unit costs, cost to serve, virtual tags) sees one
kind of value:

- ``csv``: uploaded as a CSV file (``/values.csv``);
- ``api``: sent in the ``values`` of a create or update;
- ``billable_metric``: *live*, fed by a Costline billable metric's materialized daily usage,
  labelled by customer (``label_dimension="customer"``, the customer's ``external_id``) or by a
  dimension of the metric's segmentation matrix; refreshed whenever usage is materialized.

``price_per_unit`` (with ``currency``) is the price the organization charges per unit of the
metric; it is entered by a user on the metric (page, admin or API) and turns usage into revenue
and gross margin on the customer pages. Null means "no price": no revenue is shown.
"""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models

from metrics.models import BillableMetric
from organizations.models import Organization
from reports.models import CostReport

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
LABEL_MAX_LENGTH = 255
CUSTOMER_DIMENSION = "customer"
# The DataExport type of FOCUS exports of allocated costs (reports' DataExport holds them).
FOCUS_EXPORT_TYPE = "focus_allocated_costs"


def _random(length: int = 16) -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


def new_business_metric_token() -> str:
    return "bsnss_mtrc_" + _random()


def new_statement_token() -> str:
    return "stmnt_" + _random()


def new_unit_costs_export_token() -> str:
    return "dta_xprt_" + _random()


class ImportType(models.TextChoices):
    CSV = "csv"
    API = "api"
    BILLABLE_METRIC = "billable_metric"


class UnitScale(models.TextChoices):
    PER_UNIT = "per_unit"
    PER_HUNDRED = "per_hundred"
    PER_THOUSAND = "per_thousand"
    PER_MILLION = "per_million"
    PER_BILLION = "per_billion"


UNIT_SCALE_FACTOR = {
    UnitScale.PER_UNIT: 1,
    UnitScale.PER_HUNDRED: 100,
    UnitScale.PER_THOUSAND: 1_000,
    UnitScale.PER_MILLION: 1_000_000,
    UnitScale.PER_BILLION: 1_000_000_000,
}


class CalculationType(models.TextChoices):
    UNIT_COST = "unit_cost"
    GROSS_MARGIN = "gross_margin"
    USAGE_UNIT_COST = "usage_unit_cost"
    RAW_BUSINESS_METRIC = "raw_business_metric"


class BusinessMetric(models.Model):
    token = models.CharField(
        max_length=48, unique=True, default=new_business_metric_token, editable=False
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="business_metrics"
    )
    title = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    import_type = models.CharField(
        max_length=32, choices=ImportType.choices, default=ImportType.API
    )
    # The live source (import_type "billable_metric"): a billable metric of the same
    # organization and the label its usage is split by ("customer" or a matrix dimension key).
    billable_metric = models.ForeignKey(
        BillableMetric, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label_dimension = models.CharField(max_length=255, blank=True, default="")
    # What the organization charges per unit; null: no price, so no revenue or margin.
    price_per_unit = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    currency = models.CharField(max_length=8, default="USD")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="business_metric_org"),
            models.Index(fields=["billable_metric"], name="business_metric_live"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.import_type == ImportType.BILLABLE_METRIC


class BusinessMetricValue(models.Model):
    """One day's amount of a metric for one label ("" when the metric has no labels)."""

    metric = models.ForeignKey(BusinessMetric, on_delete=models.CASCADE, related_name="values")
    date = models.DateField()
    label = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="")
    amount = models.DecimalField(max_digits=28, decimal_places=10)

    class Meta:
        ordering = ["date", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "date", "label"], name="business_metric_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.date} {self.label or '-'} {self.amount}"


class BusinessMetricForecastedValue(models.Model):
    """A forecasted amount the caller sent (``forecasted_values``); kept apart from history."""

    metric = models.ForeignKey(
        BusinessMetric, on_delete=models.CASCADE, related_name="forecasted_values"
    )
    date = models.DateField()
    label = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="")
    amount = models.DecimalField(max_digits=28, decimal_places=10)

    class Meta:
        ordering = ["date", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "date", "label"], name="business_metric_forecast_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.date} {self.label or '-'} {self.amount} (forecast)"


class CostReportAttachment(models.Model):
    """A business metric used by a cost report (``cost_report_tokens_with_metadata``)."""

    metric = models.ForeignKey(
        BusinessMetric, on_delete=models.CASCADE, related_name="cost_report_attachments"
    )
    cost_report = models.ForeignKey(
        CostReport, on_delete=models.CASCADE, related_name="business_metric_attachments"
    )
    unit_scale = models.CharField(
        max_length=16, choices=UnitScale.choices, default=UnitScale.PER_UNIT
    )
    calculation_type = models.CharField(
        max_length=24, choices=CalculationType.choices, default=CalculationType.UNIT_COST
    )
    label = models.CharField(max_length=255, null=True, blank=True)
    # Only values with one of these labels count in the report (empty: every value).
    label_filter = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "cost_report"], name="business_metric_report_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} → {self.cost_report_id}"


class StatementKind(models.TextChoices):
    CHARGEBACK = "chargeback"  # the amounts are charged to the customer or cost center
    SHOWBACK = "showback"  # the same figures, shown for information


class SourceKind(models.TextChoices):
    SEGMENT = "segment"
    REPORT = "report"


class Statement(models.Model):
    """A month's cost-to-serve statement, of a whole segment (or report) across its customers
    or of one customer, written as CSV and PDF by a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETED = "completed"
        FAILED = "failed"

    token = models.CharField(
        max_length=32, unique=True, default=new_statement_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(
        max_length=16, choices=StatementKind.choices, default=StatementKind.SHOWBACK
    )
    month = models.DateField(help_text="The first day of the month the statement covers.")
    source_kind = models.CharField(max_length=16, choices=SourceKind.choices)
    source_token = models.CharField(max_length=64)
    source_name = models.CharField(max_length=255, blank=True, default="")
    metric = models.ForeignKey(
        BusinessMetric, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Null: the whole source, every customer; else this customer's statement.
    customer = models.ForeignKey(
        "metrics.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=28, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True, default="")
    files = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    emailed_to = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "month"], name="statement_org_month")]

    def __str__(self) -> str:
        who = self.customer_id or self.source_name
        return f"{self.kind} {self.month:%Y-%m} {who}"


class StatementSchedule(models.Model):
    """Statements generated and e-mailed every month (beat: ``business.send_monthly``) for the
    month just ended."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(
        max_length=16, choices=StatementKind.choices, default=StatementKind.SHOWBACK
    )
    source_kind = models.CharField(max_length=16, choices=SourceKind.choices)
    source_token = models.CharField(max_length=64)
    metric = models.ForeignKey(BusinessMetric, on_delete=models.CASCADE, related_name="+")
    per_customer = models.BooleanField(
        default=False, help_text="One statement per customer too, e-mailed to the customer."
    )
    recipients = models.TextField(help_text="E-mail addresses, one per line or comma-separated.")
    active = models.BooleanField(default=True)
    last_month_sent = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.source_kind} {self.source_token}"

    @property
    def recipient_list(self) -> list[str]:
        return [
            address.strip()
            for line in self.recipients.splitlines()
            for address in line.split(",")
            if address.strip()
        ]
