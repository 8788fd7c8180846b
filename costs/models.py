"""Cloud billing data: integrations, FOCUS cost rows, imports and dimension values."""

import uuid

from django.conf import settings
from django.db import models

from organizations.models import Organization

from . import partitions


class Provider(models.TextChoices):
    AWS = "aws", "AWS"
    AZURE = "azure", "Azure"
    GCP = "gcp", "GCP"


class Integration(models.Model):
    """One cloud billing source of an organization (Archera's ``integration_id``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integrations"
    )
    provider = models.CharField(max_length=8, choices=Provider.choices)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


MONEY = {"max_digits": 28, "decimal_places": 10}
QUANTITY = {"max_digits": 28, "decimal_places": 10}


class CostRowQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        partitions.ensure_month_partitions(row.charge_period_start for row in objs)
        return super().bulk_create(objs, *args, **kwargs)


class CostRow(models.Model):
    """One FOCUS charge row in the legacy row store. Column names follow FOCUS in snake_case.

    Cost rows now live in the columnar store (``costs.columnar``, docs/columnar.md): nothing
    writes this table any more, and ``manage.py costs_to_columnar`` moves the rows an earlier
    version wrote. It stays for that move, and as the input of the row-store engine
    (``segments.allocation``) that tests and benchmarks compare the columnar engine with. On
    PostgreSQL it is partitioned by the month of ``charge_period_start`` (``costs.partitions``).
    """

    # No database FK constraints or FK indexes: measured on PostgreSQL, the two constraints'
    # per-row checks took 5 s of a 11 s COPY of a million rows, and the composite indexes below
    # lead with these columns anyway. Rows are only written by the importer, under a lock on
    # their integration; deletions still cascade through Django (docs/cost-data.md).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    integration = models.ForeignKey(
        Integration,
        on_delete=models.CASCADE,
        related_name="cost_rows",
        db_index=False,
        db_constraint=False,
    )
    provider = models.CharField(max_length=8, choices=Provider.choices)
    billing_account_id = models.CharField(max_length=128, blank=True, default="")
    billing_account_name = models.CharField(max_length=255, blank=True, default="")
    sub_account_id = models.CharField(max_length=128, blank=True, default="")
    sub_account_name = models.CharField(max_length=255, blank=True, default="")
    service_name = models.CharField(max_length=255, blank=True, default="")
    service_category = models.CharField(max_length=64, blank=True, default="")
    service_subcategory = models.CharField(max_length=128, blank=True, default="")
    region_id = models.CharField(max_length=64, blank=True, default="")
    resource_id = models.CharField(max_length=512, blank=True, default="")
    resource_type = models.CharField(max_length=128, blank=True, default="")
    sku_id = models.CharField(max_length=255, blank=True, default="")
    charge_category = models.CharField(max_length=16, blank=True, default="")
    charge_class = models.CharField(max_length=16, blank=True, default="")
    charge_description = models.CharField(max_length=512, blank=True, default="")
    pricing_category = models.CharField(max_length=16, blank=True, default="")
    commitment_discount_id = models.CharField(max_length=512, blank=True, default="")
    commitment_discount_type = models.CharField(max_length=64, blank=True, default="")
    billed_cost = models.DecimalField(**MONEY, default=0)
    effective_cost = models.DecimalField(**MONEY, default=0)
    list_cost = models.DecimalField(**MONEY, default=0)
    contracted_cost = models.DecimalField(**MONEY, default=0)
    pricing_quantity = models.DecimalField(**QUANTITY, null=True, blank=True)
    pricing_unit = models.CharField(max_length=64, blank=True, default="")
    consumed_quantity = models.DecimalField(**QUANTITY, null=True, blank=True)
    consumed_unit = models.CharField(max_length=64, blank=True, default="")
    billing_currency = models.CharField(max_length=8, blank=True, default="USD")
    charge_period_start = models.DateField(help_text="The usage day (UTC).")
    billing_period_start = models.DateField()
    tags = models.JSONField(default=dict, blank=True)
    operating_system = models.CharField(max_length=64, blank=True, default="")
    tenancy = models.CharField(max_length=32, blank=True, default="")
    instance_family = models.CharField(max_length=32, blank=True, default="")

    objects = CostRowQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "provider", "charge_period_start"],
                name="cost_org_provider_day",
            ),
            models.Index(
                fields=["integration", "billing_period_start"], name="cost_integration_period"
            ),
            # Filters on the main dimensions are answered inside this index (service as a
            # range, account and region as index conditions) within a month's partition. One
            # composite index, not one per dimension: each index costs ~1.5 s per million
            # imported rows (docs/cost-data.md).
            models.Index(
                fields=["organization", "provider", "service_name", "sub_account_id", "region_id"],
                name="cost_org_dimensions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.service_name} {self.charge_period_start}"

    def save(self, *args, **kwargs):
        partitions.ensure_month_partitions([self.charge_period_start])
        super().save(*args, **kwargs)


class ImportJob(models.Model):
    """One FOCUS file imported into an integration: its status, counts and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload page"
        API = "api", "API"
        COMMAND = "command", "Command line"
        DEMO = "demo", "Demo data"
        SYNC = "sync", "Cloud sync"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs"
    )
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="imports")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True, max_length=500)
    source_paths = models.JSONField(
        default=list, blank=True, help_text="Local files of a command-line or demo import."
    )
    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    rows_replaced = models.BigIntegerField(default=0)
    billing_periods = models.JSONField(default=list, blank=True)
    months = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life: queued, started, or a progress report of its worker.",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Runs started so far.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="import_org_created"),
            models.Index(fields=["status", "heartbeat_at"], name="import_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} → {self.integration} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def paths(self) -> list[str]:
        return [self.file.path] if self.file else list(self.source_paths)


class DimensionField(models.TextChoices):
    """The filterable fields whose distinct values ``DimensionValue`` keeps."""

    ACCOUNT_ID = "account_id", "Account"
    # key: the account id, value: its FOCUS SubAccountName (the explorer shows accounts by name)
    ACCOUNT_NAME = "account_name", "Account name"
    BILLING_ACCOUNT_ID = "billing_account_id", "Billing account"
    SERVICE = "service", "Service"
    SERVICE_CATEGORY = "service_category", "Service category"
    REGION = "region", "Region"
    CHARGE_CATEGORY = "charge_category", "Charge category"
    PRICING_CATEGORY = "pricing_category", "Pricing category"
    OPERATING_SYSTEM = "operating_system", "Operating system"
    TENANCY = "tenancy", "Tenancy"
    INSTANCE_FAMILY = "instance_family", "Instance family"
    TAG = "tag", "Tag"


class DimensionValue(models.Model):
    """A distinct value of a filterable field in one billing period of one integration.

    Rebuilt for the periods an import replaces, so filter-value look-ups read this small table
    and never scan cost rows. ``key`` is the tag key for ``field == "tag"``.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="dimension_values"
    )
    billing_period_start = models.DateField()
    field = models.CharField(max_length=32, choices=DimensionField.choices)
    key = models.CharField(max_length=255, blank=True, default="")
    value = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "billing_period_start", "field", "key", "value"],
                name="dimension_value_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "provider", "field"], name="dimension_org_field")
        ]

    def __str__(self) -> str:
        label = f"{self.key}={self.value}" if self.key else self.value
        return f"{self.field}: {label}"


class IntegrationSource(models.Model):
    """Where an integration's FOCUS exports are pulled from: a bucket or container of a cloud.

    ``settings`` holds what may be shown again (bucket, prefix, region, endpoint, key id, role);
    ``secrets`` is a Fernet token of the credentials (``costs.connectors.secrets``), never shown.
    """

    class Type(models.TextChoices):
        S3 = "s3", "Amazon S3"
        AZURE_BLOB = "azure_blob", "Azure Blob Storage"
        GCS = "gcs", "Google Cloud Storage"

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, primary_key=True, related_name="source"
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    settings = models.JSONField(default=dict, blank=True)
    secrets = models.TextField(blank=True, help_text="Encrypted credentials (write-only).")
    sync_every_minutes = models.PositiveIntegerField(default=60)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_imported_delivery = models.CharField(max_length=500, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.get_type_display()} source of {self.integration}"

    @property
    def location(self) -> str:
        """The bucket (or container) and prefix the exports are read from."""
        container = self.settings.get("bucket") or self.settings.get("container") or ""
        return f"{container}/{self.settings.get('prefix') or ''}"


class SourceDelivery(models.Model):
    """One delivery of an export (a billing period's files) and the import job that took it.

    ``fingerprint`` changes whenever the cloud delivers the period again (new manifest, new ETags
    or generations), so a sync imports only what is new or changed.
    """

    source = models.ForeignKey(
        IntegrationSource, on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.CharField(max_length=500, help_text="The export and billing period.")
    fingerprint = models.CharField(max_length=64)
    objects_list = models.JSONField(default=list, help_text="Data files: key, etag, size.")
    job = models.OneToOneField(ImportJob, on_delete=models.CASCADE, related_name="delivery")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "key"], name="delivery_source_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.fingerprint[:12]})"
