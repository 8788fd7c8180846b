"""The arithmetic of usage: reading event values, daily partial aggregates, unit conversion.

Everything is ``Decimal``. A day's partial aggregate keeps what is needed to merge days exactly
(count, sum, min, max, latest with its timestamp, the set of distinct values); the selectors merge
partials over a window and ``convert`` then applies the metric's unit conversion.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)

from .models import AggregationType, BillableMetric, Rounding
from .segmentation import OTHER, Matrix, canonical_string, storable

NUMERIC_TYPES = frozenset(
    {
        AggregationType.SUM,
        AggregationType.MIN,
        AggregationType.MAX,
        AggregationType.MEAN,
        AggregationType.LATEST,
    }
)
# Daily values are stored with 12 decimal places; more precision than that is not kept.
STORED_PLACES = Decimal("0.000000000001")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


class PropertyError(ValueError):
    """An event lacks the property a metric measures, or it has the wrong type."""

    def __init__(self, reason: str, field_name: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.field = field_name
        self.message = message


def parse_number(value) -> Decimal:
    """A JSON number or a numeric string as ``Decimal``; anything else raises ``ValueError``."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return Decimal(repr(value))
    if isinstance(value, str) and _NUMBER.match(value):
        try:
            return Decimal(value.strip())
        except InvalidOperation as error:
            raise ValueError("not a number") from error
    raise ValueError("not a number")


@dataclass(frozen=True)
class MetricSpec:
    """The parts of a metric that decide how events aggregate."""

    aggregation_type: str
    aggregation_key: str | None
    matrix: Matrix | None
    usage_group_key: str | None

    @classmethod
    def of(cls, metric: BillableMetric) -> MetricSpec:
        return cls(
            aggregation_type=metric.aggregation_type,
            aggregation_key=metric.aggregation_key,
            matrix=Matrix.of(metric.segmentation_matrix),
            usage_group_key=metric.usage_group_key,
        )

    @property
    def is_numeric(self) -> bool:
        return self.aggregation_type in NUMERIC_TYPES

    def measure(self, properties: dict):
        """The value an event contributes: ``Decimal`` for numeric types, a string for
        COUNT_DISTINCT, ``None`` for COUNT. Raises ``PropertyError`` when it has none."""
        if self.aggregation_type == AggregationType.COUNT:
            return None
        key = self.aggregation_key
        field_name = f"properties.{key}"
        raw = properties.get(key)
        if raw is None:
            raise PropertyError("missing_property", field_name, f"Property '{key}' is missing.")
        if self.aggregation_type == AggregationType.COUNT_DISTINCT:
            if isinstance(raw, dict | list):
                raise PropertyError(
                    "invalid_property", field_name, f"Property '{key}' must be a scalar value."
                )
            return storable(canonical_string(raw))
        try:
            return parse_number(raw)
        except ValueError as error:
            raise PropertyError(
                "invalid_property", field_name, f"Property '{key}' must be a number."
            ) from error

    def bucket(self, properties: dict) -> tuple[bool, str, str, str]:
        """``(is_other, dimension1, dimension2, usage_group)`` of an event."""
        is_other, first, second = False, "", ""
        if self.matrix is not None:
            combination = self.matrix.bucket(properties)
            if combination is OTHER:
                is_other = True
            else:
                first, second = combination
        group = ""
        if self.usage_group_key:
            value = canonical_string(properties.get(self.usage_group_key))
            group = storable(value) if value is not None else ""
        return is_other, first, second, group


@dataclass
class DailyPartial:
    """One day's aggregate of one (metric, customer, bucket)."""

    event_count: int = 0
    value_sum: Decimal | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    latest_value: Decimal | None = None
    latest_at: datetime.datetime | None = None
    latest_event: int | None = None
    distinct: set[str] = field(default_factory=set)

    def add(self, value, timestamp: datetime.datetime, event_pk: int) -> None:
        self.event_count += 1
        if isinstance(value, Decimal):
            self.value_sum = value if self.value_sum is None else self.value_sum + value
            self.value_min = value if self.value_min is None else min(self.value_min, value)
            self.value_max = value if self.value_max is None else max(self.value_max, value)
            # "Latest" is the last by timestamp; among equal timestamps, the last ingested.
            if self.latest_at is None or (timestamp, event_pk) > (
                self.latest_at,
                self.latest_event,
            ):
                self.latest_value, self.latest_at, self.latest_event = value, timestamp, event_pk
        elif isinstance(value, str):
            self.distinct.add(value)


def daily_partials(
    spec: MetricSpec, events: Iterable[tuple[int, datetime.datetime, dict]]
) -> dict[tuple[bool, str, str, str], DailyPartial]:
    """Aggregate one day of events ``(pk, timestamp, properties)`` per bucket.

    Events that cannot be measured (stored before the metric existed, without its property) are
    left out; ingestion rejects such events while the metric exists.
    """
    partials: dict[tuple[bool, str, str, str], DailyPartial] = {}
    for event_pk, timestamp, properties in events:
        properties = properties if isinstance(properties, dict) else {}
        try:
            value = spec.measure(properties)
        except PropertyError:
            continue
        key = spec.bucket(properties)
        partial = partials.get(key)
        if partial is None:
            partial = partials[key] = DailyPartial()
        partial.add(value, timestamp, event_pk)
    return partials


def round_value(value: Decimal, rounding: str | None) -> Decimal:
    """Round a converted quantity.

    UP is toward +infinity and DOWN toward -infinity (ceiling and floor); NEAREST,
    NEAREST_HALF (to a multiple of 0.5) and NEAREST_TENTH (to 0.1) round halves away from zero.
    """
    if rounding in (None, Rounding.NONE):
        return value
    if rounding == Rounding.UP:
        return value.to_integral_value(rounding=ROUND_CEILING)
    if rounding == Rounding.DOWN:
        return value.to_integral_value(rounding=ROUND_FLOOR)
    if rounding == Rounding.NEAREST:
        return value.to_integral_value(rounding=ROUND_HALF_UP)
    if rounding == Rounding.NEAREST_HALF:
        return (value * 2).to_integral_value(rounding=ROUND_HALF_UP) / 2
    if rounding == Rounding.NEAREST_TENTH:
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    raise ValueError(f"unknown rounding {rounding!r}")


def convert(value: Decimal, factor: Decimal | None, rounding: str | None) -> Decimal:
    """Unit conversion: divide by ``factor``, then round."""
    if factor is None:
        return value
    with localcontext() as context:
        context.prec = 34
        return round_value(value / factor, rounding)
