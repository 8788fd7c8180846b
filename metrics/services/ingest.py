"""Event ingestion: validate a batch, store the new events, mark their days for materialization."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import ServiceError
from core.params import contains_nul, parse_datetime
from organizations.models import Organization

from ..aggregation import MetricSpec, PropertyError
from ..models import BillableMetric, Customer, UsageEvent
from . import materialize
from .definitions import CODE_PATTERN
from .materialize import insert_many

MAX_EVENTS_PER_REQUEST = 500
# Events may be stamped a little ahead of our clock (skewed clients), not further.
MAX_FUTURE = datetime.timedelta(hours=24)


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
            materialize.mark_dirty(organization, marks, now)
            if marks:
                transaction.on_commit(
                    lambda: materialize.usage_materialization_schedule(organization.pk)
                )
    return result


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
    inserted = insert_many(
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
