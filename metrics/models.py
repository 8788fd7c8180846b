"""Billable metrics (Meteroid-compatible): catalogue, usage events and materialized daily usage.

Public ids are a prefix plus 22 random base62 characters (``bm_…``, ``cus_…``); they are the
primary keys of the catalogue tables. Usage events keep a bigint key (there are millions) and the
caller's own event id, unique per organization, which makes ingestion idempotent.
"""

from __future__ import annotations

import secrets
import string

from django.db import models
from django.db.models import Q

from organizations.models import Organization

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_RANDOM_LENGTH = 22


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(BASE62) for _ in range(ID_RANDOM_LENGTH))


def new_product_family_id() -> str:
    return new_id("pf_")


def new_product_id() -> str:
    return new_id("prd_")


def new_customer_id() -> str:
    return new_id("cus_")


def new_metric_id() -> str:
    return new_id("bm_")


class ProductFamily(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_product_family_id)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="product_families"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "product families"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_product_id)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="products"
    )
    family = models.ForeignKey(ProductFamily, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A customer of the organization; ``external_id`` is the caller's own id for it."""

    id = models.CharField(primary_key=True, max_length=32, default=new_customer_id)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customers"
    )
    name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255)
    email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="customer_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class AggregationType(models.TextChoices):
    COUNT = "COUNT"
    LATEST = "LATEST"
    MAX = "MAX"
    MIN = "MIN"
    MEAN = "MEAN"
    SUM = "SUM"
    COUNT_DISTINCT = "COUNT_DISTINCT"


class Rounding(models.TextChoices):
    NONE = "NONE"
    UP = "UP"
    DOWN = "DOWN"
    NEAREST = "NEAREST"
    NEAREST_HALF = "NEAREST_HALF"
    NEAREST_TENTH = "NEAREST_TENTH"


class BillableMetric(models.Model):
    """What to measure in the events of one ``code`` and how to report it.

    ``segmentation_matrix`` is stored in its canonical wire form (see ``metrics.segmentation``).
    ``unit_conversion_factor`` is null when the metric has no unit conversion.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_metric_id)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="billable_metrics"
    )
    product_family = models.ForeignKey(
        ProductFamily, on_delete=models.PROTECT, related_name="metrics"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="metrics", null=True, blank=True
    )
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=64)
    description = models.TextField(null=True, blank=True)
    aggregation_type = models.CharField(max_length=16, choices=AggregationType.choices)
    aggregation_key = models.CharField(max_length=255, null=True, blank=True)
    segmentation_matrix = models.JSONField(null=True, blank=True)
    unit_conversion_factor = models.DecimalField(
        max_digits=30, decimal_places=12, null=True, blank=True
    )
    unit_conversion_rounding = models.CharField(
        max_length=16, choices=Rounding.choices, null=True, blank=True
    )
    usage_group_key = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                condition=Q(archived_at__isnull=True),
                name="metric_code_unique_among_active",
            )
        ]
        indexes = [models.Index(fields=["organization", "code"], name="metric_org_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class UsageEvent(models.Model):
    """One usage event as the caller sent it. Never aggregated at query time."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=255)
    code = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    timestamp = models.DateTimeField()
    properties = models.JSONField(default=dict)
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="usage_event_id_unique"
            )
        ]
        indexes = [
            # Materialization reads one (code, customer, day) at a time.
            models.Index(
                fields=["organization", "code", "customer", "timestamp"],
                name="usage_event_materialize",
            ),
            models.Index(fields=["organization", "timestamp"], name="usage_event_org_time"),
        ]

    def __str__(self) -> str:
        return self.event_id


class UsageDirtyDay(models.Model):
    """A (code, customer, day) whose events changed since its daily usage was computed.

    Ingestion upserts these rows in the same transaction as the events; materialization locks
    one row, recomputes that day from the raw events and deletes the row.

    A day that cannot be recomputed (an event stored with a value the usage columns cannot hold,
    say) keeps its row with the reason: ``attempts`` counts the failed runs and
    ``last_error``/``failed_at`` tell the last one. After ``MAX_ATTEMPTS`` the day is left alone
    (the admin's "retry" action resets it).
    """

    MAX_ATTEMPTS = 5

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField()
    # Database defaults: ingestion inserts these rows with raw SQL that does not name them.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_error = models.TextField(blank=True, default="", db_default="")
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code", "customer", "day"], name="usage_dirty_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.customer_id} {self.day}"


class UsageDaily(models.Model):
    """Partial aggregates of one metric for one customer, day, matrix combination and group.

    Everything needed to merge days exactly is kept: count and sum (so MEAN = Σsum / Σcount),
    min, max and the latest value with its timestamp. Distinct values live in
    ``UsageDailyDistinct``. ``is_other`` marks events outside the segmentation matrix.
    """

    metric = models.ForeignKey(BillableMetric, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    is_other = models.BooleanField(default=False)
    dimension1 = models.CharField(max_length=255, default="", blank=True)
    dimension2 = models.CharField(max_length=255, default="", blank=True)
    usage_group = models.CharField(max_length=255, default="", blank=True)
    event_count = models.BigIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=40, decimal_places=12, null=True)
    value_min = models.DecimalField(max_digits=40, decimal_places=12, null=True)
    value_max = models.DecimalField(max_digits=40, decimal_places=12, null=True)
    latest_value = models.DecimalField(max_digits=40, decimal_places=12, null=True)
    latest_at = models.DateTimeField(null=True)
    latest_event = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "metric",
                    "customer",
                    "day",
                    "is_other",
                    "dimension1",
                    "dimension2",
                    "usage_group",
                ],
                name="usage_daily_unique",
            )
        ]
        indexes = [models.Index(fields=["metric", "day"], name="usage_daily_metric_day")]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.customer_id} {self.day}"


class UsageDailyDistinct(models.Model):
    """The exact set of distinct values seen per day, for COUNT_DISTINCT metrics.

    Distinct counts over a window are ``COUNT(DISTINCT value)`` across its days: exact, never an
    estimate. Values longer than 255 characters are stored as their SHA-256.
    """

    metric = models.ForeignKey(BillableMetric, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    is_other = models.BooleanField(default=False)
    dimension1 = models.CharField(max_length=255, default="", blank=True)
    dimension2 = models.CharField(max_length=255, default="", blank=True)
    usage_group = models.CharField(max_length=255, default="", blank=True)
    value = models.CharField(max_length=255)

    class Meta:
        indexes = [
            models.Index(fields=["metric", "customer", "day"], name="usage_distinct_lookup"),
            models.Index(fields=["metric", "day"], name="usage_distinct_metric_day"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.customer_id} {self.day} {self.value}"
