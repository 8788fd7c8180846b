"""Writes of the metrics app: catalogue, billable metrics, event ingestion and materialization."""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.errors import ConflictError, ServiceError
from core.params import contains_nul, parse_datetime
from organizations.models import Organization

from . import segmentation
from .aggregation import STORED_PLACES, MetricSpec, PropertyError, daily_partials
from .models import (
    AggregationType,
    BillableMetric,
    Customer,
    Product,
    ProductFamily,
    Rounding,
    UsageDaily,
    UsageDailyDistinct,
    UsageDirtyDay,
    UsageEvent,
)

logger = logging.getLogger("costline.metrics")

CODE_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
MAX_EVENTS_PER_REQUEST = 500
# Events may be stamped a little ahead of our clock (skewed clients), not further.
MAX_FUTURE = datetime.timedelta(hours=24)
MATERIALIZE_DEBOUNCE_SECONDS = getattr(settings, "METRICS_MATERIALIZE_DEBOUNCE_SECONDS", 5)
# One task run drains at most this many dirty days, then re-enqueues itself.
MATERIALIZE_BATCH = 5000
# Dirty days recomputed per transaction (and per lock set).
MATERIALIZE_TRANSACTION = 500


# ---------------------------------------------------------------------------------------------
# Catalogue


def _required_text(value, field_name: str, max_length: int = 255) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if not text:
        raise ServiceError("This field is required.", field=field_name)
    if len(text) > max_length:
        raise ServiceError(f"At most {max_length} characters.", field=field_name)
    return text


def product_family_create(
    organization: Organization, *, name: str, description: str = ""
) -> ProductFamily:
    return ProductFamily.objects.create(
        organization=organization,
        name=_required_text(name, "name"),
        description=description or "",
    )


def product_family_update(family: ProductFamily, **changes) -> ProductFamily:
    if "name" in changes:
        family.name = _required_text(changes["name"], "name")
    if "description" in changes:
        family.description = changes["description"] or ""
    family.save()
    return family


def _family_in(organization: Organization, family_id, field_name: str) -> ProductFamily:
    family = ProductFamily.objects.filter(organization=organization, pk=family_id).first()
    if family is None:
        raise ServiceError(f"Product family '{family_id}' does not exist.", field=field_name)
    return family


def product_create(
    organization: Organization, *, name: str, product_family_id: str, description: str = ""
) -> Product:
    family = _family_in(organization, product_family_id, "product_family_id")
    return Product.objects.create(
        organization=organization,
        family=family,
        name=_required_text(name, "name"),
        description=description or "",
    )


def product_update(product: Product, **changes) -> Product:
    if "name" in changes:
        product.name = _required_text(changes["name"], "name")
    if "description" in changes:
        product.description = changes["description"] or ""
    product.save()
    return product


def _external_id_free(organization: Organization, external_id: str, exclude_pk=None) -> None:
    taken = Customer.objects.filter(organization=organization, external_id=external_id)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ConflictError(
            f"A customer with external_id '{external_id}' already exists.", field="external_id"
        )


@transaction.atomic
def customer_create(
    organization: Organization, *, name: str, external_id: str, email: str = ""
) -> Customer:
    external_id = _required_text(external_id, "external_id")
    _external_id_free(organization, external_id)
    return Customer.objects.create(
        organization=organization,
        name=_required_text(name, "name"),
        external_id=external_id,
        email=email or "",
    )


@transaction.atomic
def customer_update(customer: Customer, **changes) -> Customer:
    if "name" in changes:
        customer.name = _required_text(changes["name"], "name")
    if "external_id" in changes:
        external_id = _required_text(changes["external_id"], "external_id")
        _external_id_free(customer.organization, external_id, exclude_pk=customer.pk)
        customer.external_id = external_id
    if "email" in changes:
        customer.email = changes["email"] or ""
    customer.save()
    return customer


# ---------------------------------------------------------------------------------------------
# Billable metrics

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
        raise ValidationError(errors)
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
    _mark_existing_usage_dirty(organization, metric.code)
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
        _mark_existing_usage_dirty(metric.organization, metric.code)
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


# ---------------------------------------------------------------------------------------------
# Event ingestion


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)

    def reject(self, index: int, event_id, reason: str, field_name: str | None, message: str):
        self.rejected.append(
            {
                "index": index,
                "id": event_id if isinstance(event_id, str) else None,
                "reason": reason,
                "field": field_name,
                "message": message,
            }
        )


def _parse_timestamp(value) -> datetime.datetime:
    """UTC; ValueError names the problem (e.g. an offset past ±15:59, which PostgreSQL refuses)."""
    return parse_datetime(value)


# The daily columns are NUMERIC(40, 12): 28 digits before the point. One event may carry at most
# 18, so that a day's sum of even ten billion such events still fits.
MAX_EVENT_DIGITS = 18


def _check_magnitude(spec: MetricSpec, value) -> None:
    """Refuse a measured value the usage columns could not store (nor sum)."""
    if not isinstance(value, Decimal):
        return
    # ``adjusted()`` is the exponent of the leading digit: no arithmetic, so no Overflow.
    if not value.is_finite() or (value and value.adjusted() >= MAX_EVENT_DIGITS):
        key = spec.aggregation_key
        raise PropertyError(
            "value_out_of_range",
            f"properties.{key}",
            f"Property '{key}' is out of range: its absolute value must be below 10^18.",
        )


def _customers_by_reference(organization: Organization, references: set[str]) -> dict:
    """Our ``cus_…`` ids and the caller's external ids, both mapped to our id (ours win)."""
    if not references:
        return {}
    if connection.vendor == "postgresql":
        # Two arrays instead of a thousand placeholders: this runs for every ingest batch.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, external_id FROM {Customer._meta.db_table} "
                "WHERE organization_id = %s AND (id = ANY(%s) OR external_id = ANY(%s))",
                [organization.pk, list(references), list(references)],
            )
            matches = cursor.fetchall()
    else:
        matches = list(
            Customer.objects.filter(organization=organization)
            .filter(Q(pk__in=references) | Q(external_id__in=references))
            .values_list("pk", "external_id")
        )
    found: dict[str, str] = {}
    for pk, external_id in matches:
        if external_id in references:
            found.setdefault(external_id, pk)
    for pk, _external_id in matches:
        if pk in references:
            found[pk] = pk
    return found


def events_ingest(organization: Organization, events) -> IngestResult:
    """Store a batch of usage events; report each invalid one by index, keep the valid ones.

    Idempotent by (organization, event id): a replayed id is acknowledged as a duplicate and not
    stored again, whatever its content. Valid events are written in one transaction together with
    the (code, customer, day) marks that tell materialization what to recompute.
    """
    if not isinstance(events, list):
        raise ServiceError("Expected a list of events.", field="events")
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise ServiceError(
            f"At most {MAX_EVENTS_PER_REQUEST} events per request; got {len(events)}.",
            field="events",
        )
    result = IngestResult()
    now = timezone.now()
    latest_allowed = now + MAX_FUTURE
    references = {
        event["customer_id"]
        for event in events
        if isinstance(event, dict)
        and isinstance(event.get("customer_id"), str)
        and "\x00" not in event["customer_id"]
    }
    customers = _customers_by_reference(organization, references)
    codes = {
        event["code"]
        for event in events
        if isinstance(event, dict) and isinstance(event.get("code"), str)
    }
    specs = {
        metric.code: MetricSpec.of(metric)
        for metric in BillableMetric.objects.filter(
            organization=organization, code__in=codes, archived_at__isnull=True
        )
    }

    rows: dict[str, tuple] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            result.reject(index, None, "invalid_event", None, "Each event must be an object.")
            continue
        event_id = event.get("id")
        if (
            not isinstance(event_id, str)
            or not event_id.strip()
            or len(event_id) > 255
            or "\x00" in event_id
        ):
            result.reject(
                index, event_id, "invalid_id", "id", "id must be a string of 1 to 255 characters."
            )
            continue
        code = event.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            result.reject(
                index,
                event_id,
                "invalid_code",
                "code",
                "code must be 1 to 64 characters among letters, digits, '_', '.' and '-'.",
            )
            continue
        reference = event.get("customer_id")
        customer_id = customers.get(reference) if isinstance(reference, str) else None
        if not isinstance(reference, str) or not reference:
            result.reject(
                index, event_id, "unknown_customer", "customer_id", "customer_id is required."
            )
            continue
        if customer_id is None:
            result.reject(
                index,
                event_id,
                "unknown_customer",
                "customer_id",
                f"No customer with id or external_id '{reference}'.",
            )
            continue
        try:
            timestamp = _parse_timestamp(event.get("timestamp"))
        except (ValueError, TypeError, OverflowError) as error:
            reason = str(error) or "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z."
            result.reject(index, event_id, "bad_timestamp", "timestamp", f"timestamp {reason}")
            continue
        if timestamp > latest_allowed:
            result.reject(
                index,
                event_id,
                "too_far_in_future",
                "timestamp",
                f"timestamp is more than {MAX_FUTURE} ahead of the server clock.",
            )
            continue
        properties = event.get("properties", {})
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            result.reject(
                index, event_id, "invalid_properties", "properties", "properties must be an object."
            )
            continue
        spec = specs.get(code)
        if spec is not None:
            try:
                _check_magnitude(spec, spec.measure(properties))
            except PropertyError as error:
                result.reject(index, event_id, error.reason, error.field, error.message)
                continue
        try:
            # PostgreSQL's JSON stores neither NUL characters nor NaN and infinities.
            document = json.dumps(properties, allow_nan=False)
            if contains_nul(properties):
                raise ValueError
        except ValueError:
            result.reject(
                index,
                event_id,
                "invalid_properties",
                "properties",
                "properties must not contain NUL characters, NaN or infinities.",
            )
            continue
        if event_id in rows:
            result.duplicates += 1
            continue
        rows[event_id] = (code, customer_id, timestamp, document)

    if rows:
        with transaction.atomic():
            inserted = _insert_events(organization, rows, now)
            result.accepted = len(inserted)
            result.duplicates += len(rows) - len(inserted)
            marks = {
                (rows[event_id][0], rows[event_id][1], rows[event_id][2].date())
                for event_id in inserted
            }
            _mark_dirty(organization, marks, now)
            if marks:
                transaction.on_commit(lambda: usage_materialization_schedule(organization.pk))
    return result


def _insert_many(table: str, columns: list[str], types: list[str], rows: list[tuple], tail: str):
    """One INSERT of many rows. On PostgreSQL the rows travel as one array per column
    (``unnest``), which keeps the statement short whatever the batch size; elsewhere as a
    multi-row VALUES list. ``types`` are the PostgreSQL column types."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}"
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(rows))} {tail}"
        params = [value for values in rows for value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if "RETURNING" in tail else None


def _insert_events(organization: Organization, rows: dict[str, tuple], now) -> set[str]:
    """Insert new events, skipping ids already stored; returns the ids actually inserted."""
    adapt_time = connection.ops.adapt_datetimefield_value
    organization_id = UsageEvent._meta.get_field("organization").get_db_prep_value(
        organization.pk, connection
    )
    ingested_at = adapt_time(now)
    # Sorted so that concurrent batches lock unique-index entries in the same order.
    values = [
        (
            organization_id,
            event_id,
            rows[event_id][0],
            rows[event_id][1],
            adapt_time(rows[event_id][2]),
            rows[event_id][3],
            ingested_at,
        )
        for event_id in sorted(rows)
    ]
    inserted = _insert_many(
        connection.ops.quote_name(UsageEvent._meta.db_table),
        [
            "organization_id",
            "event_id",
            "code",
            "customer_id",
            "timestamp",
            "properties",
            "ingested_at",
        ],
        ["uuid", "text", "text", "text", "timestamptz", "jsonb", "timestamptz"],
        values,
        "ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING event_id",
    )
    return {row[0] for row in inserted}


def _mark_dirty(organization: Organization, marks: Iterable[tuple], now) -> None:
    """Upsert the (code, customer, day) marks of a write, in a fixed order.

    An existing mark is not rewritten but it is locked (``DO UPDATE ... WHERE 1 = 0`` locks the
    conflicting row without a new row version): a materialization that holds the mark waits for
    this transaction, so it cannot delete the mark and miss these events. ``marked_at`` keeps the
    oldest pending time.
    """
    if not marks:
        return
    organization_id = UsageDirtyDay._meta.get_field("organization").get_db_prep_value(
        organization.pk, connection
    )
    marked_at = connection.ops.adapt_datetimefield_value(now)
    adapt_date = connection.ops.adapt_datefield_value
    _insert_many(
        connection.ops.quote_name(UsageDirtyDay._meta.db_table),
        ["organization_id", "code", "customer_id", "day", "marked_at"],
        ["uuid", "text", "text", "date", "timestamptz"],
        [
            (organization_id, code, customer_id, adapt_date(day), marked_at)
            for code, customer_id, day in sorted(marks)
        ],
        "ON CONFLICT (organization_id, code, customer_id, day) "
        "DO UPDATE SET marked_at = excluded.marked_at WHERE 1 = 0",
    )


def _mark_existing_usage_dirty(organization: Organization, code: str) -> None:
    days = (
        UsageEvent.objects.filter(organization=organization, code=code)
        .annotate(day=TruncDate("timestamp"))
        .values_list("customer_id", "day")
        .distinct()
        .order_by()
    )
    marks = {(code, customer_id, day) for customer_id, day in days}
    if marks:
        _mark_dirty(organization, marks, timezone.now())
        transaction.on_commit(lambda: usage_materialization_schedule(organization.pk))


# ---------------------------------------------------------------------------------------------
# Materialization of daily usage


def _debounce_key(organization_id) -> str:
    return f"metrics:materialize:{organization_id}"


def usage_materialization_schedule(organization_id) -> None:
    """Enqueue one materialization of the organization's dirty days, at most one per interval.

    Called after each ingest commits; bursts of ingests share one task. If the broker is down
    the periodic beat task still drains the days.
    """
    from .tasks import materialize_usage

    key = _debounce_key(organization_id)
    if not cache.add(key, "1", timeout=MATERIALIZE_DEBOUNCE_SECONDS):
        return
    try:
        materialize_usage.apply_async(
            kwargs={"organization_id": str(organization_id)},
            countdown=MATERIALIZE_DEBOUNCE_SECONDS,
        )
    except Exception:  # a broker outage must not fail the ingest that already committed
        cache.delete(key)
        logger.warning("could not enqueue usage materialization", exc_info=True)


def _recompute(dirty: list[UsageDirtyDay]) -> None:
    """Rebuild the daily aggregates of every metric of each dirty (code, customer, day).

    Works per (organization, code, day): one delete and one read of raw events for all the
    customers of that day in the batch.
    """
    by_day: dict[tuple, set[str]] = defaultdict(set)
    for row in dirty:
        by_day[(row.organization_id, row.code, row.day)].add(row.customer_id)
    metrics_of: dict[tuple, list[BillableMetric]] = {}
    daily_rows: list[UsageDaily] = []
    distinct_rows: list[UsageDailyDistinct] = []
    for (organization_id, code, day), customer_ids in by_day.items():
        if (organization_id, code) not in metrics_of:
            metrics_of[(organization_id, code)] = list(
                BillableMetric.objects.filter(organization_id=organization_id, code=code)
            )
        metrics = metrics_of[(organization_id, code)]
        if not metrics:
            continue
        stale = {"metric__in": metrics, "day": day, "customer_id__in": customer_ids}
        UsageDaily.objects.filter(**stale).delete()
        UsageDailyDistinct.objects.filter(**stale).delete()
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        events_of: dict[str, list] = defaultdict(list)
        for customer_id, pk, timestamp, properties in (
            UsageEvent.objects.filter(
                organization_id=organization_id,
                code=code,
                customer_id__in=customer_ids,
                timestamp__gte=start,
                timestamp__lt=start + datetime.timedelta(days=1),
            )
            .order_by()
            .values_list("customer_id", "pk", "timestamp", "properties")
            .iterator(chunk_size=5000)
        ):
            events_of[customer_id].append((pk, timestamp, properties))
        for metric in metrics:
            spec = MetricSpec.of(metric)
            for customer_id, events in events_of.items():
                for (is_other, first, second, group), partial in daily_partials(
                    spec, events
                ).items():
                    bucket = {
                        "metric": metric,
                        "customer_id": customer_id,
                        "day": day,
                        "is_other": is_other,
                        "dimension1": first,
                        "dimension2": second,
                        "usage_group": group,
                    }
                    daily_rows.append(
                        UsageDaily(
                            **bucket,
                            event_count=partial.event_count,
                            value_sum=partial.value_sum,
                            value_min=partial.value_min,
                            value_max=partial.value_max,
                            latest_value=partial.latest_value,
                            latest_at=partial.latest_at,
                            latest_event=partial.latest_event,
                        )
                    )
                    distinct_rows += [
                        UsageDailyDistinct(**bucket, value=value) for value in partial.distinct
                    ]
    UsageDaily.objects.bulk_create(daily_rows, batch_size=2000)
    UsageDailyDistinct.objects.bulk_create(distinct_rows, batch_size=2000)


def usage_materialize_pending(
    *,
    organization_id=None,
    code: str | None = None,
    customer_id: str | None = None,
    day_from: datetime.date | None = None,
    day_to: datetime.date | None = None,
    wait: bool = False,
    limit: int | None = None,
) -> int:
    """Recompute dirty days, a locked batch per transaction; returns how many were done.

    Workers pass ``wait=False`` and skip days another process holds. Readers pass
    ``wait=True``: they wait for days in progress, so that what they read afterwards includes
    every event committed before the read began. Marks are locked in the order ingestion
    writes them, (code, customer, day), so readers and ingests cannot deadlock.
    """
    pending = UsageDirtyDay.objects.all()
    if organization_id is not None:
        pending = pending.filter(organization_id=organization_id)
    if code is not None:
        pending = pending.filter(code=code)
    if customer_id is not None:
        pending = pending.filter(customer_id=customer_id)
    if day_from is not None:
        pending = pending.filter(day__gte=day_from)
    if day_to is not None:
        pending = pending.filter(day__lte=day_to)
    pending = pending.filter(attempts__lt=UsageDirtyDay.MAX_ATTEMPTS).order_by(
        "organization_id", "code", "customer_id", "day"
    )
    done = 0
    failed: set[int] = set()  # tried and failed in this call: not again until the next one
    while limit is None or done < limit:
        size = (
            MATERIALIZE_TRANSACTION if limit is None else min(MATERIALIZE_TRANSACTION, limit - done)
        )
        with transaction.atomic():
            batch = list(
                pending.exclude(pk__in=failed).select_for_update(skip_locked=not wait)[:size]
            )
            if not batch:
                break
            errors = _recompute_isolated(batch)
            UsageDirtyDay.objects.filter(
                pk__in=[row.pk for row in batch if row.pk not in errors]
            ).delete()
            _record_failures(batch, errors)
        failed.update(errors)
        done += len(batch) - len(errors)
    return done


def _is_infrastructure(error: Exception) -> bool:
    """Errors of the database connection itself: retrying later may work, isolating will not."""
    return isinstance(error, OperationalError | InterfaceError)


def _recompute_or_reason(rows: list[UsageDirtyDay]) -> str | None:
    """Recompute ``rows`` on a savepoint; the reason it failed (rolled back), or None."""
    try:
        with transaction.atomic():
            _recompute(rows)
        return None
    except Exception as error:
        if _is_infrastructure(error):
            raise
        return f"{type(error).__name__}: {error}"[:2000]


def _recompute_isolated(batch: list[UsageDirtyDay]) -> dict[int, str]:
    """Recompute a batch; if that fails, each (organization, code, day) on its own savepoint,
    then each customer of a day that still fails, so that one poisoned day never holds back
    another. Returns ``{dirty row pk: reason}`` of the rows that could not be recomputed."""
    if _recompute_or_reason(batch) is None:
        return {}
    groups: dict[tuple, list[UsageDirtyDay]] = defaultdict(list)
    for row in batch:
        groups[(row.organization_id, row.code, row.day)].append(row)
    errors: dict[int, str] = {}
    for rows in groups.values():
        reason = _recompute_or_reason(rows)
        if reason is None:
            continue
        for row in rows:
            reason = _recompute_or_reason([row]) if len(rows) > 1 else reason
            if reason is not None:
                logger.error(
                    "usage materialization failed org=%s code=%s customer=%s day=%s: %s",
                    row.organization_id,
                    row.code,
                    row.customer_id,
                    row.day,
                    reason,
                )
                errors[row.pk] = reason
    return errors


def _record_failures(batch: list[UsageDirtyDay], errors: dict[int, str]) -> None:
    now = timezone.now()
    for row in batch:
        if row.pk in errors:
            row.attempts += 1
            row.last_error = errors[row.pk]
            row.failed_at = now
            if row.attempts >= UsageDirtyDay.MAX_ATTEMPTS:
                logger.error(
                    "usage materialization gave up after %d attempts org=%s code=%s day=%s",
                    row.attempts,
                    row.organization_id,
                    row.code,
                    row.day,
                )
    rows = [row for row in batch if row.pk in errors]
    if rows:
        UsageDirtyDay.objects.bulk_update(rows, ["attempts", "last_error", "failed_at"])


def usage_materialize_retry(rows) -> int:
    """Give days that failed (or were given up) a fresh set of attempts; returns how many."""
    return rows.filter(attempts__gt=0).update(attempts=0, last_error="", failed_at=None)


def usage_materialize_run(organization_id=None) -> int:
    """One task run: drain a batch of dirty days, and enqueue another run if some remain."""
    if organization_id is not None:
        cache.delete(_debounce_key(organization_id))
    done = usage_materialize_pending(organization_id=organization_id, limit=MATERIALIZE_BATCH)
    if done >= MATERIALIZE_BATCH:
        from .tasks import materialize_usage

        transaction.on_commit(
            lambda: materialize_usage.apply_async(
                kwargs={"organization_id": str(organization_id) if organization_id else None}
            )
        )
    return done
