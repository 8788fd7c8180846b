"""Writes of billable metrics: the definition rules, create, update, archive."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from core.errors import ConflictError, ServiceError
from organizations.models import Organization

from .. import segmentation
from ..aggregation import STORED_PLACES
from ..models import AggregationType, BillableMetric, Product, ProductFamily, Rounding, UsageEvent
from .materialize import mark_existing_usage_dirty

CODE_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")

# Model fields that decide the figures a metric reports, with the wire field they come from.
DEFINITION_FIELDS = {
    "code": "code",
    "aggregation_type": "aggregation_type",
    "aggregation_key": "aggregation_key",
    "segmentation_matrix": "segmentation_matrix",
    "unit_conversion_factor": "unit_conversion",
    "unit_conversion_rounding": "unit_conversion",
    "usage_group_key": "usage_group_key",
}


def _optional_key(value, field_name: str, errors: dict) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 255:
        errors[field_name] = ["Must be a property name of at most 255 characters."]
        return None
    return value


def _unit_conversion(value, errors: dict) -> tuple[Decimal | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        errors["unit_conversion"] = ["Must be an object {factor, rounding}."]
        return None, None
    unknown = set(value) - {"factor", "rounding"}
    if unknown:
        errors["unit_conversion"] = [f"Unknown fields: {', '.join(sorted(unknown))}."]
        return None, None
    raw_factor = value.get("factor")
    try:
        if isinstance(raw_factor, bool) or raw_factor is None:
            raise InvalidOperation
        factor = Decimal(str(raw_factor))
        if not factor.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["unit_conversion"] = ["factor must be a number."]
        return None, None
    if factor <= 0:
        errors["unit_conversion"] = ["factor must be greater than 0."]
        return None, None
    if (
        factor >= Decimal(10) ** 18
        or factor.normalize().as_tuple().exponent < STORED_PLACES.as_tuple().exponent
    ):
        errors["unit_conversion"] = ["factor must be below 10^18 with at most 12 decimals."]
        return None, None
    rounding = value.get("rounding") or Rounding.NONE
    if rounding not in Rounding.values:
        errors["unit_conversion"] = [
            f"rounding must be one of {', '.join(Rounding.values)}; got '{rounding}'."
        ]
        return None, None
    return factor, rounding


def _definition(organization: Organization, data: dict, metric: BillableMetric | None) -> dict:
    """Validate a full metric definition; every problem is reported at once, by field."""
    errors: dict[str, list[str]] = {}
    values: dict = {}

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
    elif len(name.strip()) > 255:
        errors["name"] = ["At most 255 characters."]
    else:
        values["name"] = name.strip()

    description = data.get("description")
    if description is not None and not isinstance(description, str):
        errors["description"] = ["Must be a string."]
    values["description"] = description

    code = data.get("code")
    if not isinstance(code, str) or not code:
        errors["code"] = ["This field is required."]
    elif not CODE_PATTERN.match(code):
        errors["code"] = ["Use 1 to 64 characters among letters, digits, '_', '.' and '-'."]
    else:
        values["code"] = code
        clash = BillableMetric.objects.filter(
            organization=organization, code=code, archived_at__isnull=True
        )
        if metric is not None:
            clash = clash.exclude(pk=metric.pk)
        if (metric is None or metric.archived_at is None) and clash.exists():
            errors["code"] = [f"An active metric with code '{code}' already exists."]

    aggregation_type = data.get("aggregation_type")
    if aggregation_type not in AggregationType.values:
        errors["aggregation_type"] = [
            f"Must be one of {', '.join(AggregationType.values)}; got '{aggregation_type}'."
        ]
    values["aggregation_type"] = aggregation_type

    aggregation_key = _optional_key(data.get("aggregation_key"), "aggregation_key", errors)
    needs_key = aggregation_type in AggregationType.values and aggregation_type != "COUNT"
    if needs_key and aggregation_key is None and "aggregation_key" not in errors:
        errors["aggregation_key"] = [f"Required for {aggregation_type} metrics."]
    values["aggregation_key"] = aggregation_key

    values["usage_group_key"] = _optional_key(
        data.get("usage_group_key"), "usage_group_key", errors
    )

    try:
        values["segmentation_matrix"] = segmentation.normalize(data.get("segmentation_matrix"))
    except segmentation.MatrixError as error:
        errors["segmentation_matrix"] = [str(error)]

    factor, rounding = _unit_conversion(data.get("unit_conversion"), errors)
    values["unit_conversion_factor"], values["unit_conversion_rounding"] = factor, rounding

    family_id = data.get("product_family_id")
    family = None
    if not family_id:
        errors["product_family_id"] = ["This field is required."]
    else:
        family = ProductFamily.objects.filter(organization=organization, pk=family_id).first()
        if family is None:
            errors["product_family_id"] = [f"Product family '{family_id}' does not exist."]
    values["product_family"] = family

    product_id = data.get("product_id")
    values["product"] = None
    if product_id:
        product = Product.objects.filter(organization=organization, pk=product_id).first()
        if product is None:
            errors["product_id"] = [f"Product '{product_id}' does not exist."]
        elif family is not None and product.family_id != family.pk:
            errors["product_id"] = [
                f"Product '{product_id}' does not belong to product family '{family.pk}'."
            ]
        else:
            values["product"] = product

    if errors:
        raise ServiceError(
            "The metric definition is not valid: " + ", ".join(errors) + ".", errors=errors
        )
    return values


def metric_wire(metric: BillableMetric) -> dict:
    """A metric as the fields a client sends (the base a PATCH applies to)."""
    unit_conversion = None
    if metric.unit_conversion_factor is not None:
        unit_conversion = {
            "factor": metric.unit_conversion_factor,
            "rounding": metric.unit_conversion_rounding or Rounding.NONE,
        }
    return {
        "name": metric.name,
        "code": metric.code,
        "description": metric.description,
        "aggregation_type": metric.aggregation_type,
        "aggregation_key": metric.aggregation_key,
        "segmentation_matrix": metric.segmentation_matrix,
        "unit_conversion": unit_conversion,
        "usage_group_key": metric.usage_group_key,
        "product_family_id": metric.product_family_id,
        "product_id": metric.product_id,
    }


@transaction.atomic
def metric_create(organization: Organization, **data) -> BillableMetric:
    """Create a billable metric; events already stored under its code are materialized for it."""
    values = _definition(organization, data, None)
    metric = BillableMetric.objects.create(organization=organization, **values)
    mark_existing_usage_dirty(organization, metric.code)
    return metric


def metric_has_usage(metric: BillableMetric) -> bool:
    return UsageEvent.objects.filter(
        organization_id=metric.organization_id, code=metric.code
    ).exists()


@transaction.atomic
def metric_update(metric: BillableMetric, **changes) -> BillableMetric:
    """Change a metric. Its definition is frozen once events exist for it: changing how usage is
    measured would silently rewrite figures already reported (and invoiced)."""
    metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
    values = _definition(metric.organization, {**metric_wire(metric), **changes}, metric)
    changed_definition = [
        wire_name
        for model_field, wire_name in DEFINITION_FIELDS.items()
        if values[model_field] != getattr(metric, model_field)
    ]
    if changed_definition and metric_has_usage(metric):
        raise ConflictError(
            "The definition cannot change once usage events exist for this metric; "
            "archive it and create a new one.",
            field=changed_definition[0],
        )
    for name, value in values.items():
        setattr(metric, name, value)
    metric.save()
    if "code" in changed_definition:
        mark_existing_usage_dirty(metric.organization, metric.code)
    return metric


def metric_archive(metric: BillableMetric) -> BillableMetric:
    if metric.archived_at is None:
        metric.archived_at = timezone.now()
        metric.save(update_fields=["archived_at", "updated_at"])
    return metric


@transaction.atomic
def metric_unarchive(metric: BillableMetric) -> BillableMetric:
    if metric.archived_at is None:
        return metric
    if BillableMetric.objects.filter(
        organization_id=metric.organization_id, code=metric.code, archived_at__isnull=True
    ).exists():
        raise ConflictError(
            f"Another active metric already uses code '{metric.code}'.", field="code"
        )
    metric.archived_at = None
    metric.save(update_fields=["archived_at", "updated_at"])
    return metric
