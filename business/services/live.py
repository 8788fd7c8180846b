"""Live business metrics: values rebuilt from a billable metric's materialized daily usage,
when usage is materialized (the ``UsageDirtyDay`` hook) and before a read."""

from __future__ import annotations

import datetime
import threading
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min

from core import background
from metrics import selectors as metric_selectors
from metrics import services as metric_services
from metrics.models import Customer, UsageDaily, UsageDirtyDay

from ..models import (
    CUSTOMER_DIMENSION,
    BusinessMetric,
    BusinessMetricValue,
    ImportType,
)
from .definitions import LIVE_REFRESH_TASK, OTHER_LABEL

# --------------------------------------------------------------------------- live metrics


def _usage_by_label(
    metric: BusinessMetric, start: datetime.date, end: datetime.date, customers: list[Customer]
) -> dict[tuple[datetime.date, str], Decimal]:
    """The billable metric's daily usage of ``customers`` per (day, label), after unit
    conversion, as ``metrics.selectors.metric_usage`` computes an invoice's lines."""
    source = metric.billable_metric
    by_label: dict[tuple[datetime.date, str], Decimal] = defaultdict(Decimal)
    for customer_usage in metric_selectors.metric_usage(
        source, window=metric_selectors.DAY, start=start, end=end, customers=customers
    ):
        for period in customer_usage["periods"]:
            if metric.label_dimension == CUSTOMER_DIMENSION:
                by_label[(period["start"], customer_usage["external_id"])] += period["total"]
            elif not metric.label_dimension:
                by_label[(period["start"], "")] += period["total"]
            else:
                for line in period["lines"]:
                    label = (
                        OTHER_LABEL
                        if line["other"]
                        else (line["dimensions"] or {}).get(metric.label_dimension, "")
                    )
                    by_label[(period["start"], label)] += line["value"]
    return by_label


def _months(start: datetime.date, end: datetime.date):
    """(first, last) day of each calendar month of the range, clipped to it."""
    first = start
    while first <= end:
        following = (first.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        last = min(end, following - datetime.timedelta(days=1))
        yield first, last
        first = last + datetime.timedelta(days=1)


def live_values_refresh(
    metric: BusinessMetric,
    start: datetime.date,
    end: datetime.date,
    customer_ids: Iterable[str] | None = None,
) -> int:
    """Rebuild a live metric's values from its billable metric's materialized daily usage.

    Each (date, label) is recomputed from the usage aggregates and replaces what was stored,
    so a late event or a replayed batch changes the value exactly once, however often this
    runs. Refreshes of one metric are serialized (row lock), a month per transaction.
    ``customer_ids`` narrows a customer-labelled refresh to those customers' labels; other
    labellings recompute every customer of the days (a label sums several customers). Returns
    the rows written.
    """
    if not metric.is_live or metric.billable_metric_id is None:
        return 0
    customer_ids = None if customer_ids is None else list(customer_ids)
    return sum(
        _refresh_range(metric, first, last, customer_ids) for first, last in _months(start, end)
    )


def _refresh_range(metric, start, end, customer_ids: list[str] | None) -> int:
    with transaction.atomic():
        metric = (
            # The row alone: PostgreSQL cannot lock the nullable side of a join.
            BusinessMetric.objects.select_for_update().get(pk=metric.pk)
        )
        source = metric.billable_metric
        with_usage = metric_selectors.customers_with_usage(source, start, end)
        stale = BusinessMetricValue.objects.filter(metric=metric, date__gte=start, date__lte=end)
        if customer_ids is not None and metric.label_dimension == CUSTOMER_DIMENSION:
            narrowed = Customer.objects.filter(
                organization_id=metric.organization_id, pk__in=list(customer_ids)
            )
            stale = stale.filter(label__in=list(narrowed.values_list("external_id", flat=True)))
            with_usage = with_usage.filter(pk__in=narrowed.values("pk"))
        by_label = _usage_by_label(metric, start, end, list(with_usage))
        stale.delete()
        rows = [
            BusinessMetricValue(metric=metric, date=day, label=label, amount=amount)
            for (day, label), amount in sorted(by_label.items())
            if amount
        ]
        BusinessMetricValue.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def live_metric_bring_up_to_date(
    metric: BusinessMetric, start: datetime.date, end: datetime.date
) -> None:
    """Before reading a live metric: materialize its pending usage days (waiting for a worker
    on them), then rebuild the range's values, so the read includes every committed event."""
    if not metric.is_live or metric.billable_metric is None:
        return
    source = metric.billable_metric
    # The days still to materialize are the only ones whose values can be behind: note them,
    # materialize, then rebuild just those (customers') values now, not the whole range.
    pending = list(
        UsageDirtyDay.objects.filter(
            organization_id=metric.organization_id,
            code=source.code,
            day__gte=start,
            day__lte=end,
        ).values_list("customer_id", "day")
    )
    metric_services.usage_refresh(source, start, end)
    if pending:
        _refresh_days(metric, pending)


def _refresh_days(metric: BusinessMetric, days: list[tuple[str, datetime.date]]) -> None:
    """Refresh the (customer, day) pairs of one metric, month by month."""
    by_month: dict[datetime.date, list[tuple[str, datetime.date]]] = defaultdict(list)
    for customer_id, day in days:
        by_month[day.replace(day=1)].append((customer_id, day))
    for pairs in by_month.values():
        live_values_refresh(
            metric,
            min(day for _, day in pairs),
            max(day for _, day in pairs),
            {customer_id for customer_id, _ in pairs},
        )


def live_metrics_refresh_days(marks: Iterable[tuple]) -> int:
    """Refresh the live metrics fed by the materialized (organization, code, customer, day)
    marks: per metric, the days and customers the marks name. Returns the metrics refreshed."""
    by_source: dict[tuple, list[tuple]] = defaultdict(list)
    for organization_id, code, customer_id, day in marks:
        day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)
        by_source[(str(organization_id), code)].append((customer_id, day))
    refreshed = 0
    for (organization_id, code), days in by_source.items():
        live = BusinessMetric.objects.filter(
            organization_id=organization_id,
            import_type=ImportType.BILLABLE_METRIC,
            billable_metric__code=code,
        ).select_related("billable_metric")
        for metric in live:
            _refresh_days(metric, days)
            refreshed += 1
    return refreshed


def live_metric_refresh_all(metric_id: int) -> int:
    """Rebuild every value of a live metric (after it is created or its source changes)."""
    metric = BusinessMetric.objects.select_related("billable_metric").filter(pk=metric_id).first()
    if metric is None or not metric.is_live or metric.billable_metric is None:
        return 0
    span = UsageDaily.objects.filter(metric=metric.billable_metric).aggregate(
        first=Min("day"), last=Max("day")
    )
    first, last = span["first"], span["last"]
    if first is None:
        BusinessMetricValue.objects.filter(metric=metric).delete()
        return 0
    return live_values_refresh(metric, first, last)


# Materialized days wait here until their transaction commits, then go to one task.
_pending = threading.local()


def usage_day_materialized(organization_id, code: str, customer_id: str, day) -> None:
    """Called for every dirty usage day materialization clears (``UsageDirtyDay`` deleted):
    the live metrics fed by that code are refreshed once the transaction commits."""
    marks = getattr(_pending, "marks", None)
    if marks is None:
        marks = _pending.marks = set()
    marks.add((str(organization_id), code, customer_id, day.isoformat()))
    # One callback per mark: the first to run sends them all, the others find nothing (a
    # rolled-back transaction drops its callbacks, so none may be counted on alone).
    transaction.on_commit(_flush_materialized_days)


def _flush_materialized_days() -> None:
    marks = sorted(getattr(_pending, "marks", set()))
    _pending.marks = set()
    if not marks:
        return
    # Most usage feeds no business metric: queue nothing for it.
    fed = BusinessMetric.objects.filter(
        import_type=ImportType.BILLABLE_METRIC,
        organization_id__in={mark[0] for mark in marks},
        billable_metric__code__in={mark[1] for mark in marks},
    )
    if fed.exists():
        background.task(LIVE_REFRESH_TASK).delay(marks=[list(mark) for mark in marks])
