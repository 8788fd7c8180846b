"""Cloud billing data: integrations, FOCUS cost rows, imports and dimension values."""

import uuid

from django.db import models

from organizations.models import Organization


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


class CostRow(models.Model):
    """One FOCUS charge row. Column names follow FOCUS in snake_case."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="cost_rows"
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

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "provider", "charge_period_start"],
                name="cost_org_provider_day",
            ),
            models.Index(
                fields=["integration", "billing_period_start"], name="cost_integration_period"
            ),
            models.Index(fields=["organization", "service_name"], name="cost_org_service"),
            models.Index(fields=["organization", "sub_account_id"], name="cost_org_account"),
            models.Index(fields=["organization", "region_id"], name="cost_org_region"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.service_name} {self.charge_period_start}"
