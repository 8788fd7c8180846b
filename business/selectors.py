"""Reads of the business app: business metrics, their values and the figures built on them."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy
from django.db import connection
from django.db.models import Case, Max, Prefetch, QuerySet, Sum, When

from reports.costs import bin_start, report_costs
from reports.models import CostReport, DataExport
from reports.selectors import cost_query_for

from .models import (
    CUSTOMER_DIMENSION,
    FOCUS_EXPORT_TYPE,
    UNIT_SCALE_FACTOR,
    BusinessMetric,
    BusinessMetricForecastedValue,
    BusinessMetricValue,
    CalculationType,
    CostReportAttachment,
    Statement,
)


def daily_values(
    metric: BusinessMetric,
    start: datetime.date,
    end: datetime.date,
    labels: Iterable[str] | None = None,
) -> list[tuple[datetime.date, str, Decimal]]:
    """The metric's (date, label, amount) from ``start`` to ``end`` inclusive, by date then label.

    Uploaded and live metrics answer alike: live ones are materialized into the same rows.
    ``labels`` keeps only those labels ("" is the unlabelled value); None keeps every label.

    Read with one plain cursor: cost to serve reads hundreds of thousands of rows, and the
    ORM's per-value converters were most of its time (PostgreSQL already returns dates and
    exact decimals; SQLite's text dates and numbers are converted here).
    """
    labels = None if labels is None else list(labels)
    if labels == []:
        return []
    table = connection.ops.quote_name(BusinessMetricValue._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    # On SQLite ``date || ''`` skips the driver's slower per-row date converter.
    day = "date" if connection.vendor == "postgresql" else "date || ''"
    sql = (
        f"SELECT {day}, label, amount FROM {table} "
        "WHERE metric_id = %s AND date >= %s AND date <= %s"
    )
    params: list = [metric.pk, adapt(start), adapt(end)]
    if labels is not None:
        sql += f" AND label IN ({', '.join(['%s'] * len(labels))})"
        params += labels
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY date, label", params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return [(day, label, amount) for day, label, amount in rows]
    return [
        (
            day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day),
            label,
            amount if isinstance(amount, Decimal) else Decimal(str(amount)),
        )
        for day, label, amount in rows
    ]


def daily_usage_totals(
    metric: BusinessMetric, start: datetime.date, end: datetime.date
) -> dict[datetime.date, Decimal]:
    """Per day, the sum of the metric's positive amounts (what a day's cost is split by)."""
    rows = (
        BusinessMetricValue.objects.filter(
            metric=metric, date__gte=start, date__lte=end, amount__gt=0
        )
        .values("date")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["date"]: row["total"] for row in rows}


# --------------------------------------------------------------------------- business metrics


def business_metrics_visible(organization) -> QuerySet[BusinessMetric]:
    """The tenant boundary of business metrics: the organization's, with what lists show."""
    return (
        BusinessMetric.objects.filter(organization=organization)
        .select_related("billable_metric", "created_by")
        .prefetch_related(
            Prefetch(
                "cost_report_attachments",
                queryset=CostReportAttachment.objects.select_related("cost_report"),
            )
        )
    )


def customer_metrics(organization) -> QuerySet[BusinessMetric]:
    """Metrics a cost-to-serve split can use: live ones labelled by customer first, then the
    others (uploaded values whose labels are customers' external ids)."""
    return BusinessMetric.objects.filter(organization=organization).order_by(
        Case(When(label_dimension=CUSTOMER_DIMENSION, then=0), default=1), "title", "id"
    )


def last_value_date(metric: BusinessMetric) -> datetime.date | None:
    return BusinessMetricValue.objects.filter(metric=metric).aggregate(last=Max("date"))["last"]


def statements_of(organization) -> QuerySet[Statement]:
    return Statement.objects.filter(organization=organization).select_related("customer", "metric")


def focus_exports_of(organization) -> QuerySet[DataExport]:
    """The organization's FOCUS exports of allocated costs, newest first."""
    return DataExport.objects.filter(
        organization=organization, export_type=FOCUS_EXPORT_TYPE
    ).order_by("-created_at")


def values_listing(
    metric: BusinessMetric,
    *,
    start: datetime.date | None = None,
    labels: list[str] | None = None,
    date_bin: str | None = None,
    forecasted: bool = False,
) -> list[tuple[datetime.date, str, Decimal]]:
    """The values ``/values`` lists, newest first (then by label): from ``start``, only
    ``labels`` when given, summed per UTC day or month per label when ``date_bin`` says so."""
    model = BusinessMetricForecastedValue if forecasted else BusinessMetricValue
    rows = model.objects.filter(metric=metric)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if labels:
        rows = rows.filter(label__in=labels)
    if date_bin == "month":
        summed: dict[tuple[datetime.date, str], Decimal] = defaultdict(Decimal)
        for day, label, amount in rows.values_list("date", "label", "amount").iterator():
            summed[(day.replace(day=1), label)] += amount
        found = [(day, label, amount) for (day, label), amount in summed.items()]
    else:
        # Days are already one row per (date, label): ``day`` sums nothing.
        found = list(rows.values_list("date", "label", "amount"))
    found.sort(key=lambda row: row[1])
    found.sort(key=lambda row: row[0], reverse=True)
    return found


def labels_of(metric: BusinessMetric) -> list[str]:
    """The labels a metric's values carry (the unlabelled "" left out), sorted."""
    return list(
        BusinessMetricValue.objects.filter(metric=metric)
        .exclude(label="")
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )


# --------------------------------------------------------------------------- forecast

FORECAST_DAYS = 30
FORECAST_HISTORY_DAYS = 90


def forecast(metric: BusinessMetric, today: datetime.date | None = None) -> list[tuple]:
    """Forecasted (date, label, amount): the values the caller sent as ``forecasted_values``
    if any; else, per label, the least-squares linear trend of the last 90 days of daily
    values (days without a value count as zero), extended 30 days past the last value and
    floored at zero. One value per label: its last amount repeated."""
    sent = list(
        BusinessMetricForecastedValue.objects.filter(metric=metric).values_list(
            "date", "label", "amount"
        )
    )
    if sent:
        return sent
    last_day = BusinessMetricValue.objects.filter(metric=metric).aggregate(last=Max("date"))["last"]
    if last_day is None:
        return []
    first_day = last_day - datetime.timedelta(days=FORECAST_HISTORY_DAYS - 1)
    series: dict[str, dict[datetime.date, Decimal]] = defaultdict(dict)
    for day, label, amount in daily_values(metric, first_day, last_day):
        series[label][day] = amount
    found = []
    for label, by_day in sorted(series.items()):
        start = min(by_day)
        days = (last_day - start).days + 1
        points = [float(by_day.get(start + datetime.timedelta(days=n), 0)) for n in range(days)]
        if len(points) < 2:
            slope, intercept = 0.0, points[-1]
        else:
            slope, intercept = (float(c) for c in numpy.polyfit(range(days), points, 1))
        for ahead in range(1, FORECAST_DAYS + 1):
            value = max(0.0, intercept + slope * (days - 1 + ahead))
            day = last_day + datetime.timedelta(days=ahead)
            found.append((day, label, Decimal(str(round(value, 6)))))
    return found


# --------------------------------------------------------------------------- unit costs


@dataclass
class UnitCost:
    metric: BusinessMetric
    calculation_type: str
    date: datetime.date
    cost: Decimal
    currency: str
    business_metric_amount: Decimal
    scale: int
    amount: Decimal  # the unit cost (or margin, or raw amount) the calculation type asks for


UNIT_COST_PLACES = Decimal("1e-10")


def report_cost_by_bin(
    report: CostReport, start: datetime.date, end: datetime.date, date_bin: str, today
) -> tuple[dict[datetime.date, Decimal], str]:
    """A cost report's cost per date bin, computed by ``reports.costs.report_costs`` with the
    report's filters and settings (no groupings), in the result's currency."""
    query = cost_query_for(
        report=report,
        groupings=[],
        start=start,
        end=end,
        date_bin=date_bin,
        settings={"show_previous_period": False},
        today=today,
    )
    result = report_costs(report.organization, query)
    currency = result.currency
    by_bin: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for line in result.lines:
        if line.currency == currency:
            by_bin[line.accrued_at] += line.amount
    return by_bin, currency


def unit_costs(
    report: CostReport,
    *,
    start: datetime.date,
    end: datetime.date,
    date_bin: str,
    today: datetime.date,
) -> list[UnitCost]:
    """Per date bin and business metric attached to the report: the report's cost ÷ the
    metric's amount in the bin (values of the attachment's ``label_filter`` only), times the
    unit scale. ``gross_margin`` is (amount − cost) ÷ amount, in percent; ``raw_business_metric``
    is the amount itself. Bins where the metric has no amount (or zero) have no unit cost."""
    attachments = list(
        CostReportAttachment.objects.filter(cost_report=report)
        .select_related("metric")
        .order_by("metric__created_at", "metric_id")
    )
    if not attachments:
        return []
    cost_by_bin, currency = report_cost_by_bin(report, start, end, date_bin, today)
    found = []
    for attachment in attachments:
        metric = attachment.metric
        amounts: dict[datetime.date, Decimal] = defaultdict(Decimal)
        for day, _label, amount in daily_values(
            metric, start, end, attachment.label_filter or None
        ):
            amounts[bin_start(day, date_bin)] += amount
        scale = UNIT_SCALE_FACTOR[attachment.unit_scale]
        for day, amount in sorted(amounts.items()):
            if not amount:
                continue
            cost = cost_by_bin.get(day, Decimal(0))
            kind = attachment.calculation_type
            if kind == CalculationType.RAW_BUSINESS_METRIC:
                value = amount
            elif kind == CalculationType.GROSS_MARGIN:
                value = (amount - cost) / amount * 100
            else:
                value = cost / amount * scale
            found.append(
                UnitCost(
                    metric,
                    kind,
                    day,
                    cost,
                    currency,
                    amount,
                    scale,
                    value.quantize(UNIT_COST_PLACES),
                )
            )
    found.sort(key=lambda row: row.date)
    return found
