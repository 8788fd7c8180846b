"""The FOCUS columns Costline reads, and the cost-row columns they fill.

A FOCUS file names its columns in FOCUS terms (``BilledCost``, ``SubAccountId``); a batch
(``FocusBatch``) is shaped like the cost-row table, ``COPY_COLUMNS`` in that order. Older
FOCUS names are accepted after the current ones.
"""

from __future__ import annotations

from ..models import CostRow, DimensionField

PROVIDER_COLUMNS = ("ProviderName", "HostProviderName", "InvoiceIssuerName", "ServiceProviderName")
MONEY_COLUMNS = {
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
}
QUANTITY_COLUMNS = {"pricing_quantity": "PricingQuantity", "consumed_quantity": "ConsumedQuantity"}
DATE_COLUMNS = {
    "charge_period_start": "ChargePeriodStart",
    "billing_period_start": "BillingPeriodStart",
}
# Model column -> FOCUS column names (first present wins; older FOCUS names after the current).
TEXT_COLUMNS = {
    "billing_account_id": ("BillingAccountId",),
    "billing_account_name": ("BillingAccountName",),
    "sub_account_id": ("SubAccountId",),
    "sub_account_name": ("SubAccountName",),
    "service_name": ("ServiceName",),
    "service_category": ("ServiceCategory",),
    "service_subcategory": ("ServiceSubcategory",),
    "region_id": ("RegionId", "Region"),
    "resource_id": ("ResourceId",),
    "resource_type": ("ResourceType",),
    "sku_id": ("SkuId",),
    "charge_category": ("ChargeCategory",),
    "charge_class": ("ChargeClass",),
    "charge_description": ("ChargeDescription",),
    "pricing_category": ("PricingCategory",),
    "commitment_discount_id": ("CommitmentDiscountId",),
    "commitment_discount_type": ("CommitmentDiscountType",),
    "pricing_unit": ("PricingUnit",),
    "consumed_unit": ("ConsumedUnit",),
    "billing_currency": ("BillingCurrency",),
}
# Free text is cut to fit; identifiers that do not fit are an error.
TRUNCATED_COLUMNS = {"charge_description"}
MANDATORY_COLUMNS = (
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BilledCost",
    "ChargeCategory",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "ServiceName",
)
TAGS_COLUMN = "Tags"
SKU_DETAILS_COLUMN = "SkuPriceDetails"

COPY_COLUMNS = (
    "organization_id",
    "integration_id",
    "provider",
    *TEXT_COLUMNS,
    *MONEY_COLUMNS,
    *QUANTITY_COLUMNS,
    *DATE_COLUMNS,
    "tags",
    "operating_system",
    "tenancy",
    "instance_family",
)
MAX_LENGTHS = {
    name: CostRow._meta.get_field(name).max_length
    for name in (*TEXT_COLUMNS, "operating_system", "tenancy", "instance_family")
}
# Which batch column feeds each dimension (see ``DimensionValue``).
DIMENSION_SOURCES = {
    DimensionField.ACCOUNT_ID: "sub_account_id",
    DimensionField.BILLING_ACCOUNT_ID: "billing_account_id",
    DimensionField.SERVICE: "service_name",
    DimensionField.SERVICE_CATEGORY: "service_category",
    DimensionField.REGION: "region_id",
    DimensionField.CHARGE_CATEGORY: "charge_category",
    DimensionField.PRICING_CATEGORY: "pricing_category",
    DimensionField.OPERATING_SYSTEM: "operating_system",
    DimensionField.TENANCY: "tenancy",
    DimensionField.INSTANCE_FAMILY: "instance_family",
}


def provider_code(name: str) -> str | None:
    """Map a FOCUS ProviderName ("AWS", "Microsoft Azure", "Google Cloud", ...) to our code."""
    lowered = name.strip().lower()
    if lowered in ("aws", "amazon web services") or lowered.startswith("amazon"):
        return "aws"
    if "azure" in lowered or lowered.startswith("microsoft"):
        return "azure"
    if lowered in ("gcp", "google cloud platform") or lowered.startswith("google"):
        return "gcp"
    return None
