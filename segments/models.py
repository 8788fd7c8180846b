"""Segments (one model for the Archera and Vantage surfaces) and their computed metrics."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.history import history_user
from costs.models import Provider
from organizations.models import Organization, Workspace


def new_segment_token() -> str:
    return "fltr_sgmt_" + secrets.token_hex(8)


def new_report_token() -> str:
    return "rprt_" + secrets.token_hex(8)


SYSTEM_SEGMENT_NAME = "provider-resources"


class Status(models.TextChoices):
    NEW = "new", "New"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Segment(models.Model):
    """A named share of an organization's costs, selected by a filter tree.

    Top-level segments are independent; a child only sees the rows its parent took, and among
    siblings the first match by ``priority`` then ``created_at`` wins (see allocation.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.CharField(max_length=32, unique=True, default=new_segment_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    provider = models.CharField(max_length=8, choices=Provider.choices, null=True, blank=True)
    filter_tree = models.JSONField(null=True, blank=True, help_text="Canonical filter tree.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    priority = models.IntegerField(default=100)
    track_unallocated = models.BooleanField(default=False)
    include_credits = models.BooleanField(default=False)
    include_refunds = models.BooleanField(default=False)
    include_discounts = models.BooleanField(default=True)
    include_tax = models.BooleanField(default=True)
    amortize = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    status_reason = models.TextField(blank=True, default="")
    is_system_generated = models.BooleanField(default=False)
    report_token = models.CharField(max_length=32, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    money_moved = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="What the last change moved between segments over the last full month "
        '(segments.moves): [{"from": ..., "to": ..., "amount": "...", "currency": ...}].',
    )
    # Every change of the definition (who, when, the fields after it, the money it moved);
    # refresh bookkeeping is written with update() and is not history.
    history = HistoricalRecords(
        excluded_fields=["status", "status_reason", "updated_at", "tree_path", "report_token"],
        get_user=history_user,
    )
    tree_path = models.TextField(
        default="",
        editable=False,
        help_text="Sort key of the segment's place in its tree (kept by the services).",
    )

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [
            models.Index(fields=["organization", "provider"], name="segment_org_provider"),
            models.Index(fields=["organization", "parent"], name="segment_org_parent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"],
                condition=models.Q(is_system_generated=True),
                name="one_system_segment_per_provider",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        return self.name

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None

    def tree_key(self) -> str:
        """This segment's step in ``tree_path``: siblings in allocation order (priority, then
        age); top-level segments system first, then by age."""
        if self.parent_id is None:
            lead = "0" if self.is_system_generated else "1"
        else:
            lead = f"{self.priority + 2**31:010d}"
        return f"{lead}{self.created_at:%Y%m%d%H%M%S%f}{self.token[-16:]}/"


class Line(models.TextChoices):
    TOTAL = "total", "Total"
    UNALLOCATED = "unallocated", "Unallocated"


class Granularity(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class ChargeKind(models.TextChoices):
    """FOCUS charges grouped the way report settings include or leave them out."""

    USAGE = "usage", "Usage"
    PURCHASE = "purchase", "Purchase"
    TAX = "tax", "Tax"
    CREDIT = "credit", "Credit"
    REFUND = "refund", "Refund (correction)"
    DISCOUNT = "discount", "Discount (adjustment)"


MONEY = {"max_digits": 28, "decimal_places": 10, "default": 0}


class SegmentMetric(models.Model):
    """A segment's figures for one day or month and one kind of charge.

    ``line`` is ``total`` (everything the segment took, descendants included) or
    ``unallocated`` (what it took that none of its children did; only for segments with
    children). Keeping charge kinds apart lets each surface apply its own rules: Archera sums
    every kind, Vantage leaves out what the top-level report settings exclude.
    """

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="metrics")
    line = models.CharField(max_length=16, choices=Line.choices)
    granularity = models.CharField(max_length=8, choices=Granularity.choices)
    period_start = models.DateField()
    charge_kind = models.CharField(max_length=16, choices=ChargeKind.choices)
    billed_cost = models.DecimalField(**MONEY)
    effective_cost = models.DecimalField(**MONEY)
    list_cost = models.DecimalField(**MONEY)
    on_demand_cost = models.DecimalField(**MONEY)
    committed_cost = models.DecimalField(**MONEY)
    committed_list_cost = models.DecimalField(**MONEY)
    eligible_list_cost = models.DecimalField(**MONEY)
    usage_quantity = models.DecimalField(**MONEY)
    resource_count = models.IntegerField(default=0)

    class Meta:
        ordering = ["segment", "line", "granularity", "period_start", "charge_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "line", "granularity", "period_start", "charge_kind"],
                name="unique_segment_metric",
            )
        ]
        indexes = [
            models.Index(
                fields=["segment", "granularity", "period_start"], name="metric_segment_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.line} {self.granularity} {self.period_start}"


class TreeRefresh(models.Model):
    """The refresh bookkeeping of one tree (one row per top-level segment).

    Every change that needs the tree recomputed bumps ``requested`` (in the same transaction,
    after locking the top segment's row) and widens ``months``; a refresh covers the
    generation it read, and records it in ``done``. A queued refresh that finds its generation
    already done, or a newer one requested (which has its own task), exits without computing:
    a burst of edits costs one or two refreshes, not one each.
    """

    top = models.OneToOneField(
        Segment, on_delete=models.CASCADE, primary_key=True, related_name="refresh_state"
    )
    requested = models.BigIntegerField(default=0)
    done = models.BigIntegerField(default=0)
    months = models.JSONField(
        null=True, blank=True, help_text="Months waiting (ISO dates); null means every month."
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0, help_text="Refreshes that computed metrics.")

    class Meta:
        indexes = [models.Index(fields=["requested_at"], name="tree_refresh_requested")]

    def __str__(self) -> str:
        return f"refresh of {self.top_id}: {self.done}/{self.requested}"

    @property
    def pending(self) -> bool:
        return self.requested > self.done
