"""AWS dimensions: operating system, tenancy and instance family of AWS cost rows.

FOCUS has no columns for them; AWS exports carry them in ``x_`` columns or ``SkuPriceDetails``,
or let them be derived from the usage type and the EC2 operation.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from .checks import as_text, column_or_empty
from .columns import MAX_LENGTHS

# AWS columns that carry (or let us derive) operating system, tenancy and instance family.
AWS_DETAIL_COLUMNS = (
    "x_OperatingSystem",
    "x_Tenancy",
    "x_InstanceFamily",
    "x_InstanceType",
    "x_UsageType",
    "x_Operation",
)


# EC2 operation codes of the platform (https://docs.aws.amazon.com/cur, "Operation" column).
AWS_OPERATION_SYSTEMS = {
    "": "Linux",
    "0002": "Windows",
    "0004": "Linux",
    "0006": "Windows",
    "0010": "RHEL",
    "0102": "Windows",
    "0202": "Windows",
    "000g": "SUSE",
    "0800": "Windows",
    "1010": "RHEL",
    "1014": "RHEL",
}
AWS_USAGE_TENANCY = {
    "BoxUsage": "Shared",
    "SpotUsage": "Shared",
    "DedicatedUsage": "Dedicated",
    "HostUsage": "Host",
    "HostBoxUsage": "Host",
    "ReservedHostUsage": "Host",
}
AWS_TENANCY_NAMES = {
    "shared": "Shared",
    "default": "Shared",
    "dedicated": "Dedicated",
    "host": "Host",
}


def instance_family_of(instance_type: str) -> str:
    """ "m6i.large" -> "m6i"; "db.r6g.large" -> "r6g" (RDS/ElastiCache prefixes dropped)."""
    parts = [part for part in instance_type.split(".") if part]
    if len(parts) >= 3 and parts[0] in ("db", "cache", "ml", "search"):
        parts = parts[1:]
    return parts[0].lower() if len(parts) >= 2 else ""


def aws_details(
    sku_price_details: str,
    operating_system: str = "",
    tenancy: str = "",
    instance_family: str = "",
    instance_type: str = "",
    usage_type: str = "",
    operation: str = "",
) -> tuple[str, str, str]:
    """(operating system, tenancy, instance family) of an AWS row.

    Explicit values win (``x_`` columns, then ``SkuPriceDetails``); otherwise they are derived
    from the usage type ("USE1-BoxUsage:m5.large") and the EC2 operation ("RunInstances:0002").
    """
    try:
        details = json.loads(sku_price_details) if sku_price_details else {}
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    operating_system = operating_system or str(
        details.get("OperatingSystem") or details.get("x_OperatingSystem") or ""
    )
    tenancy = tenancy or str(details.get("x_Tenancy") or details.get("Tenancy") or "")
    instance_type = instance_type or str(details.get("InstanceType") or "")
    usage_kind, _, usage_instance = usage_type.partition(":")
    usage_kind = usage_kind.rsplit("-", 1)[-1]
    if not instance_type and usage_kind in AWS_USAGE_TENANCY:
        instance_type = usage_instance
    if not tenancy and usage_kind in AWS_USAGE_TENANCY:
        tenancy = AWS_USAGE_TENANCY[usage_kind]
    tenancy = AWS_TENANCY_NAMES.get(tenancy.lower(), tenancy)
    if not operating_system and operation.startswith("RunInstances"):
        operating_system = AWS_OPERATION_SYSTEMS.get(operation.partition(":")[2], "")
    instance_family = instance_family or instance_family_of(instance_type)
    if not instance_family and details.get("InstanceSeries"):
        instance_family = str(details["InstanceSeries"]).lower()
    return operating_system, tenancy, instance_family


def aws_columns(
    record_batch: pa.RecordBatch, provider: str, sources: list[str | None]
) -> dict[str, pa.Array]:
    """The operating system, tenancy and instance family columns of a batch (empty for other
    providers than AWS); ``sources`` are the file's ``SkuPriceDetails`` and AWS columns."""
    rows = record_batch.num_rows
    if provider != "aws":
        empty = pa.repeat("", rows).cast(pa.string())
        return {"operating_system": empty, "tenancy": empty, "instance_family": empty}
    texts = [as_text(column_or_empty(record_batch, name)) for name in sources]
    keys = pc.dictionary_encode(pc.binary_join_element_wise(*texts, "\x1f"))
    derived = [aws_details(*key.split("\x1f")) for key in keys.dictionary.to_pylist()]
    result = {}
    for position, name in enumerate(("operating_system", "tenancy", "instance_family")):
        limit = MAX_LENGTHS[name]
        values = pa.array([item[position][:limit] for item in derived], pa.string())
        result[name] = pc.take(values, keys.indices)
    return result
