"""Cost reports (Vantage's CostReport), the folders that hold them, saved filters and exports.

A report is a durable query over the organization's cost rows: a filter tree (the one filter
model of ``segments.filter_tree``, stored canonical), groupings, a date range and the cost
settings. ``reports.selectors.report_costs`` is the one place that runs it.
"""

import secrets

from django.conf import settings
from django.db import models

from organizations.models import Organization, Workspace


def new_folder_token() -> str:
    return "fldr_" + secrets.token_hex(8)


def new_saved_filter_token() -> str:
    return "svd_fltr_" + secrets.token_hex(8)


def new_cost_report_token() -> str:
    return "rprt_" + secrets.token_hex(8)


def new_data_export_token() -> str:
    return "dta_xprt_" + secrets.token_hex(8)


class DateInterval(models.TextChoices):
    THIS_MONTH = "this_month"
    LAST_3_DAYS = "last_3_days"
    LAST_7_DAYS = "last_7_days"
    LAST_14_DAYS = "last_14_days"
    LAST_30_DAYS = "last_30_days"
    LAST_MONTH = "last_month"
    LAST_3_MONTHS = "last_3_months"
    LAST_6_MONTHS = "last_6_months"
    LAST_12_MONTHS = "last_12_months"
    LAST_24_MONTHS = "last_24_months"
    LAST_36_MONTHS = "last_36_months"
    NEXT_MONTH = "next_month"
    NEXT_3_MONTHS = "next_3_months"
    NEXT_6_MONTHS = "next_6_months"
    NEXT_12_MONTHS = "next_12_months"
    YEAR_TO_DATE = "year_to_date"
    CUSTOM = "custom"


class DateBin(models.TextChoices):
    CUMULATIVE = "cumulative"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HOUR = "hour"


class ChartType(models.TextChoices):
    AREA = "area"
    LINE = "line"
    PIE = "pie"
    BAR = "bar"
    MULTI_BAR = "multi_bar"


class AggregateBy(models.TextChoices):
    COST = "cost"
    USAGE = "usage"
    COUNT = "count"


class FolderType(models.TextChoices):
    COST = "CostFolder"
    PROVIDER_RESOURCE = "ProviderResourceFolder"


class SavedFilter(models.Model):
    """A named VQL filter that narrows any report it is applied to (ANDed with its own)."""

    token = models.CharField(
        max_length=32, unique=True, default=new_saved_filter_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    filter_tree = models.JSONField(null=True, blank=True, help_text="Canonical filter tree.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="saved_filter_org")]

    def __str__(self) -> str:
        return self.title


class Folder(models.Model):
    """A folder of cost reports; its saved filters apply to every report inside it."""

    token = models.CharField(max_length=32, unique=True, default=new_folder_token, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    type = models.CharField(max_length=32, choices=FolderType.choices, default=FolderType.COST)
    # Deleting a folder keeps what it held: sub-folders and reports move to the top level.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    saved_filters = models.ManyToManyField(SavedFilter, blank=True, related_name="folders")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="folder_org")]

    def __str__(self) -> str:
        return self.title


class CostReport(models.Model):
    """A saved cost query: filter, groupings, dates and settings (Vantage's CostReport)."""

    token = models.CharField(
        max_length=32, unique=True, default=new_cost_report_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    title = models.CharField(max_length=255)
    filter_tree = models.JSONField(null=True, blank=True, help_text="Canonical filter tree.")
    saved_filters = models.ManyToManyField(SavedFilter, blank=True, related_name="reports")
    groupings = models.JSONField(default=list, blank=True, help_text='e.g. ["provider"].')
    include_credits = models.BooleanField(default=False)
    include_refunds = models.BooleanField(default=False)
    include_discounts = models.BooleanField(default=True)
    include_tax = models.BooleanField(default=True)
    amortize = models.BooleanField(default=True)
    unallocated = models.BooleanField(default=False)
    aggregate_by = models.CharField(
        max_length=8, choices=AggregateBy.choices, default=AggregateBy.COST
    )
    show_previous_period = models.BooleanField(default=True)
    complete_period = models.BooleanField(default=False)
    date_interval = models.CharField(
        max_length=16, choices=DateInterval.choices, default=DateInterval.THIS_MONTH
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    previous_period_start_date = models.DateField(null=True, blank=True)
    previous_period_end_date = models.DateField(null=True, blank=True)
    date_bin = models.CharField(max_length=16, choices=DateBin.choices, default=DateBin.CUMULATIVE)
    chart_type = models.CharField(max_length=16, choices=ChartType.choices, default=ChartType.LINE)
    chart_settings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="cost_report_org")]

    def __str__(self) -> str:
        return self.title


class DataExport(models.Model):
    """An export of ``/v2/costs`` as files (CSV and Parquet), written by a Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETED = "completed"
        FAILED = "failed"

    token = models.CharField(
        max_length=32, unique=True, default=new_data_export_token, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    export_type = models.CharField(max_length=32, default="cost_report")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attributes = models.JSONField(
        default=dict, help_text="The query: report_token, dates, groupings, vql, settings, bin."
    )
    files = models.JSONField(default=list, blank=True, help_text="File names, in export order.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.token} ({self.status})"
