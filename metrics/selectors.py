"""Reads of the metrics app: catalogue querysets and usage from the materialized daily rows.

Usage is never computed from raw events here, and nothing here writes: a view first calls the
service ``metrics.services.usage_refresh`` (which recomputes the range's pending, dirty days), so
that what it then reads includes every event committed before its request, whether or not a
worker has caught up.

How figures are built, for one metric and one window (day or calendar month, UTC):

- a *line* is one (segmentation combination or ``other``, usage group); its raw value merges the
  daily partials of the window: COUNT Σcount, SUM Σsum, MIN/MAX over the days, MEAN Σsum/Σcount,
  LATEST the value of the last event, COUNT_DISTINCT the distinct values over all the days;
- the line's *value* is the raw value after unit conversion (divide by factor, then round);
- a customer's *total* for a window is the sum of its line values — what an invoice adds up;
- across customers (``usage_series``), the total is the sum of the customers' totals.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth

from core.errors import NotFoundError, ServiceError
from organizations.models import Organization

from .aggregation import convert
from .models import (
    AggregationType,
    BillableMetric,
    Customer,
    Product,
    ProductFamily,
    UsageDaily,
    UsageDailyDistinct,
    UsageEvent,
)
from .segmentation import Matrix

DAY = "day"
MONTH = "month"
WINDOWS = (DAY, MONTH)
MAX_DAYS = {DAY: 400, MONTH: 3700}
ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------------
# Catalogue


def product_families(organization: Organization):
    return ProductFamily.objects.filter(organization=organization)


def products(organization: Organization):
    return Product.objects.filter(organization=organization).select_related("family")


def customers(organization: Organization):
    return Customer.objects.filter(organization=organization)


def metrics(organization: Organization):
    return BillableMetric.objects.filter(organization=organization).select_related(
        "product_family", "product"
    )


def events(organization: Organization):
    return UsageEvent.objects.filter(organization=organization).select_related("customer")


def customer_by_reference(organization: Organization, reference: str) -> Customer:
    """A customer by our ``cus_…`` id or by the caller's external id (ours wins), else 404."""
    found = Customer.objects.filter(organization=organization, pk=reference).first()
    if found is None:
        found = Customer.objects.filter(organization=organization, external_id=reference).first()
    if found is None:
        raise NotFoundError(f"Customer '{reference}' not found.", field="customer_id")
    return found


# ---------------------------------------------------------------------------------------------
# Windows


@dataclass(frozen=True)
class Period:
    """One window, clipped to the requested range: ``start`` and ``end`` are inclusive days."""

    key: datetime.date  # the day, or the first day of the month
    start: datetime.date
    end: datetime.date


def periods(window: str, start: datetime.date, end: datetime.date) -> list[Period]:
    if window not in WINDOWS:
        raise ServiceError(f"window must be one of {', '.join(WINDOWS)}.", field="window")
    if end < start:
        raise ServiceError("'to' must not be before 'from'.", field="to")
    if (end - start).days >= MAX_DAYS[window]:
        raise ServiceError(
            f"The range may span at most {MAX_DAYS[window]} days with window={window}.",
            field="to",
        )
    if window == DAY:
        return [
            Period(day, day, day)
            for day in (start + datetime.timedelta(days=n) for n in range((end - start).days + 1))
        ]
    found = []
    month = start.replace(day=1)
    while month <= end:
        last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        found.append(Period(month, max(month, start), min(last, end)))
        month = last + datetime.timedelta(days=1)
    return found


# ---------------------------------------------------------------------------------------------
# Usage

Bucket = tuple[bool, str, str, str]  # (is_other, dimension1, dimension2, usage_group)
BUCKET_FIELDS = ("is_other", "dimension1", "dimension2", "usage_group")


def _period_expression(window: str):
    return F("day") if window == DAY else TruncMonth("day")


def _raw_line_values(
    metric: BillableMetric,
    window: str,
    start: datetime.date,
    end: datetime.date,
    customer_ids: list[str] | None,
) -> dict[tuple[str, datetime.date, Bucket], Decimal]:
    """Raw (unconverted) value of every line with events, keyed (customer, period, bucket)."""
    aggregation = metric.aggregation_type
    model = UsageDailyDistinct if aggregation == AggregationType.COUNT_DISTINCT else UsageDaily
    rows = model.objects.filter(metric=metric, day__gte=start, day__lte=end)
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    group_by = ("customer_id", *BUCKET_FIELDS, "period")
    rows = rows.order_by().annotate(period=_period_expression(window))

    if aggregation == AggregationType.LATEST:
        # The row of the last day with events holds the window's latest value.
        partition = [F(name) for name in group_by[:-1]] + [_period_expression(window)]
        rows = (
            rows.filter(latest_at__isnull=False)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=partition,
                    order_by=[F("latest_at").desc(), F("latest_event").desc()],
                )
            )
            .filter(rank=1)
            .values(*group_by, value=F("latest_value"))
        )
    else:
        measures = {
            AggregationType.COUNT: {"value": Sum("event_count")},
            AggregationType.SUM: {"value": Sum("value_sum")},
            AggregationType.MIN: {"value": Min("value_min")},
            AggregationType.MAX: {"value": Max("value_max")},
            AggregationType.MEAN: {"value": Sum("value_sum"), "count": Sum("event_count")},
            AggregationType.COUNT_DISTINCT: {"value": Count("value", distinct=True)},
        }[aggregation]
        rows = rows.values(*group_by).annotate(**measures)

    values = {}
    for row in rows:
        value = row["value"]
        if value is None:
            continue
        if aggregation == AggregationType.MEAN:
            if not row["count"]:
                continue
            value = Decimal(value) / row["count"]
        period = row["period"]
        if isinstance(period, datetime.datetime):
            period = period.date()
        bucket = tuple(row[name] for name in BUCKET_FIELDS)
        values[(row["customer_id"], period, bucket)] = Decimal(value)
    return values


def _converted(metric: BillableMetric, raw: Decimal) -> Decimal:
    return convert(raw, metric.unit_conversion_factor, metric.unit_conversion_rounding)


def _lines(
    metric: BillableMetric, matrix: Matrix | None, found: dict[Bucket, Decimal]
) -> list[dict]:
    """The lines of one customer and window: every listed combination (zero when it had no
    events), then the groups and the ``other`` bucket that did have events."""
    lines = []
    combinations = matrix.combinations if matrix else (("", ""),)
    for combination in combinations:
        buckets = sorted(bucket for bucket in found if not bucket[0] and bucket[1:3] == combination)
        for bucket in buckets or [(False, *combination, "")]:
            lines.append(
                {
                    "dimensions": matrix.dimensions(combination) if matrix else {},
                    "other": False,
                    "usage_group": bucket[3] or None,
                    "value": _converted(metric, found.get(bucket, ZERO)),
                }
            )
    for bucket in sorted(bucket for bucket in found if bucket[0]):
        lines.append(
            {
                "dimensions": None,
                "other": True,
                "usage_group": bucket[3] or None,
                "value": _converted(metric, found[bucket]),
            }
        )
    return lines


def metric_usage(
    metric: BillableMetric,
    *,
    window: str,
    start: datetime.date,
    end: datetime.date,
    customers: list[Customer],
) -> list[dict]:
    """Usage of each given customer: per window, its lines and their total."""
    windows = periods(window, start, end)
    raw = _raw_line_values(metric, window, start, end, [c.pk for c in customers])
    by_customer_period: dict[tuple[str, datetime.date], dict[Bucket, Decimal]] = defaultdict(dict)
    for (customer_id, period, bucket), value in raw.items():
        by_customer_period[(customer_id, period)][bucket] = value
    matrix = Matrix.of(metric.segmentation_matrix)
    results = []
    for customer in customers:
        customer_periods = []
        for period in windows:
            lines = _lines(metric, matrix, by_customer_period.get((customer.pk, period.key), {}))
            customer_periods.append(
                {
                    "start": period.start,
                    "end": period.end,
                    "total": sum((line["value"] for line in lines), ZERO),
                    "lines": lines,
                }
            )
        results.append(
            {
                "customer_id": customer.pk,
                "external_id": customer.external_id,
                "customer_name": customer.name,
                "periods": customer_periods,
            }
        )
    return results


def customers_with_usage(metric: BillableMetric, start: datetime.date, end: datetime.date):
    """Customers with any usage of the metric in the range (the all-customers usage list)."""
    with_rows = UsageDaily.objects.filter(metric=metric, day__gte=start, day__lte=end)
    return Customer.objects.filter(
        organization_id=metric.organization_id, pk__in=with_rows.values("customer_id")
    ).order_by("name", "pk")


@dataclass(frozen=True)
class UsagePoint:
    start: datetime.date
    end: datetime.date
    value: Decimal


def usage_series(
    metric: BillableMetric,
    organization: Organization,
    window: str,
    start: datetime.date,
    end: datetime.date,
    customer: Customer | None = None,
) -> list[UsagePoint]:
    """Per-window totals of a metric (one customer, or all customers summed), after unit
    conversion, every window of the range included (zero when nothing was used).

    The seam unit costs build on: cost of a window ÷ this value.
    """
    if metric.organization_id != organization.pk:
        raise NotFoundError("Billable metric not found.")
    if customer is not None and customer.organization_id != organization.pk:
        raise NotFoundError("Customer not found.")
    windows = periods(window, start, end)
    raw = _raw_line_values(metric, window, start, end, [customer.pk] if customer else None)
    totals: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    for (_customer_id, period, _bucket), value in raw.items():
        totals[period] += _converted(metric, value)
    return [UsagePoint(period.start, period.end, totals[period.key]) for period in windows]


def usage_chart(
    metric: BillableMetric,
    *,
    window: str,
    start: datetime.date,
    end: datetime.date,
    customer: Customer | None = None,
) -> dict:
    """Chart data of a metric page: one series per segmentation combination (usage groups
    summed, all customers summed unless one is chosen), plus ``other`` when it has usage."""
    windows = periods(window, start, end)
    raw = _raw_line_values(metric, window, start, end, [customer.pk] if customer else None)
    matrix = Matrix.of(metric.segmentation_matrix)
    series: dict[str, dict[datetime.date, Decimal]] = {}
    labels_by_combination = {}
    for combination in matrix.combinations if matrix else (("", ""),):
        label = " / ".join(v for v in combination if v) if matrix else metric.code
        labels_by_combination[combination] = label
        series[label] = defaultdict(lambda: ZERO)
    for (_customer_id, period, bucket), value in raw.items():
        label = "other" if bucket[0] else labels_by_combination[bucket[1:3]]
        series.setdefault(label, defaultdict(lambda: ZERO))
        series[label][period] += _converted(metric, value)
    return {
        "labels": [
            period.start.isoformat() if window == DAY else period.key.strftime("%Y-%m")
            for period in windows
        ],
        "datasets": [
            {"label": label, "data": [float(values[period.key]) for period in windows]}
            for label, values in series.items()
        ],
    }


# ---------------------------------------------------------------------------------------------
# Materialization problems


def materialization_problems(limit: int = 20) -> dict:
    """Days whose usage could not be materialized: ``failing`` (to be tried again), ``given_up``
    (after ``UsageDirtyDay.MAX_ATTEMPTS``, waiting for the admin's retry) and the most recent
    ``days`` with their reason. Across all organizations, for health checks and operators."""
    from .models import UsageDirtyDay

    failed = UsageDirtyDay.objects.filter(attempts__gt=0)
    given_up = failed.filter(attempts__gte=UsageDirtyDay.MAX_ATTEMPTS).count()
    total = failed.count()
    days = [
        {
            "organization_id": str(row.organization_id),
            "code": row.code,
            "customer_id": row.customer_id,
            "day": row.day.isoformat(),
            "attempts": row.attempts,
            "given_up": row.attempts >= UsageDirtyDay.MAX_ATTEMPTS,
            "error": row.last_error,
            "failed_at": row.failed_at.isoformat() if row.failed_at else None,
        }
        for row in failed.order_by("-failed_at", "pk")[:limit]
    ]
    return {"count": total, "failing": total - given_up, "given_up": given_up, "days": days}
