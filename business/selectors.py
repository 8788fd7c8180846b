"""Reads of the business app: business metrics, their values and the figures built on them."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from .models import BusinessMetric, BusinessMetricValue


def daily_values(
    metric: BusinessMetric,
    start: datetime.date,
    end: datetime.date,
    labels: Iterable[str] | None = None,
) -> list[tuple[datetime.date, str, Decimal]]:
    """The metric's (date, label, amount) from ``start`` to ``end`` inclusive, by date then label.

    Uploaded and live metrics answer alike: live ones are materialized into the same rows.
    ``labels`` keeps only those labels ("" is the unlabelled value); None keeps every label.
    """
    values = BusinessMetricValue.objects.filter(metric=metric, date__gte=start, date__lte=end)
    if labels is not None:
        values = values.filter(label__in=list(labels))
    return list(values.order_by("date", "label").values_list("date", "label", "amount"))
