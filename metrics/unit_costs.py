"""Unit costs: a segment's cost divided by a billable metric's usage, per window.

The one home of the feature, on the metrics side of the one-way dependency metrics → segments:
the series (``unit_cost_series``), the segment lookup of the API (``segment_by_reference``),
what a unit is (``unit_label``), and the unit-cost panels of the metric page and of the segment
page. The segment page knows nothing of metrics: ``MetricsConfig.ready`` registers
``segment_panel`` in ``segments.panels``.

Reading only: a caller brings the usage of the range up to date first
(``metrics.services.usage_refresh``), as the panels below do.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from core.errors import NotFoundError
from costs.currencies import currency_label
from organizations.models import Organization
from segments.panels import Panel
from segments.selectors import segment_cost_series, segments_for_request, segments_visible

from . import selectors, services
from .models import BillableMetric
from .selectors import DAY, ZERO, usage_series


@dataclass
class UnitCostPoint:
    start: datetime.date
    end: datetime.date
    cost: Decimal
    usage: Decimal
    unit_cost: Decimal | None


def unit_label(metric: BillableMetric) -> str:
    """What a unit cost is per: the metric's code scaled by its unit conversion, e.g.
    "1,000 requests" for a metric whose usage is divided by 1,000."""
    factor = metric.unit_conversion_factor
    if factor is None or factor == 1:
        return f"1 {metric.code}"
    text = f"{factor.normalize():,f}"
    return f"{text} {metric.code}"


def segment_by_reference(organization: Organization, workspaces, reference: str):
    """A segment the credential sees (its organization's, in ``workspaces``, the workspaces it
    reaches) by its uuid or its ``fltr_sgmt_`` token."""
    segments = segments_visible(organization, workspaces)
    found = segments.filter(token=reference).first()
    if found is None:
        try:
            found = segments.filter(pk=reference).first()
        except (ValueError, ValidationError):
            found = None
    if found is None:
        raise NotFoundError("Segment not found.", field="segment")
    return found


def unit_cost_series(
    segment, metric: BillableMetric, window: str, start: datetime.date, end: datetime.date
) -> list[UnitCostPoint]:
    """Segment cost ÷ metric usage per window (e.g. cost per API call); null where usage is 0.

    The cost is the segment's, with its report settings applied (as the Vantage surface shows
    it); the usage is the metric's over all customers, after unit conversion.
    """

    # Daily costs summed per window: a month clipped by the range (5–31 October) then divides
    # the cost of the same days as its usage, not the whole month's (or nothing).
    def window_of(day: datetime.date) -> datetime.date:
        return day if window == DAY else day.replace(day=1)

    costs: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    for day, cost in segment_cost_series(segment, DAY, start, end).items():
        costs[window_of(day)] += cost
    points = []
    for usage in usage_series(metric, metric.organization, window, start, end):
        cost = costs[window_of(usage.start)]
        unit_cost = cost / usage.value if usage.value else None
        points.append(UnitCostPoint(usage.start, usage.end, cost, usage.value, unit_cost))
    return points


def _chart(points: list[UnitCostPoint], labels: list[str], label: str, currency, unit) -> dict:
    return {
        "labels": labels,
        "datasets": [
            {
                "label": label,
                "data": [float(p.unit_cost) if p.unit_cost is not None else None for p in points],
            }
        ],
        "currency": currency,
        "unit": unit,
    }


def metric_panel(request, organization, metric: BillableMetric, window, start, end) -> dict:
    """The metric page's unit-cost chart: a chosen segment's cost ÷ this metric's usage, in the
    page's windows."""
    choices = list(segments_for_request(request, organization).order_by("name"))
    chosen = next((s for s in choices if str(s.pk) == request.GET.get("segment")), None)
    unit = unit_label(metric)
    context = {
        "unit_segment_choices": choices,
        "unit_segment": chosen,
        "unit_chart": None,
        "unit_rows": [],
        "unit": unit,
        "currency": None,
    }
    if chosen is not None:
        currency = currency_label(organization, chosen.provider)
        services.usage_refresh(metric, start, end)
        points = unit_cost_series(chosen, metric, window, start, end)
        context.update(
            currency=currency,
            unit_rows=points,
            unit_chart=_chart(
                points,
                [point.start.isoformat() for point in points],
                f"{chosen.name}: cost per {unit}",
                currency,
                unit,
            ),
        )
    return context


def segment_panel(request, segment, monthly_rows: list[dict], currency: str) -> dict:
    """The segment page's unit-cost chart: this segment's monthly cost ÷ a chosen billable
    metric's usage, from the segment's first month to today."""
    choices = list(selectors.metrics(segment.organization).filter(archived_at__isnull=True))
    chosen = next((m for m in choices if m.pk == request.GET.get("metric")), None)
    context = {
        "unit_metric_choices": choices,
        "unit_metric": chosen,
        "unit_chart": None,
        "unit_rows": [],
        "unit": unit_label(chosen) if chosen is not None else "",
    }
    if chosen is not None and monthly_rows:
        start = datetime.date.fromisoformat(monthly_rows[0]["month"] + "-01")
        today = datetime.date.today()
        services.usage_refresh(chosen, start, today)
        points = unit_cost_series(segment, chosen, "month", start, today)
        context["unit_rows"] = points
        context["unit_chart"] = _chart(
            points,
            [point.start.strftime("%Y-%m") for point in points],
            f"Cost per {context['unit']}",
            currency,
            context["unit"],
        )
    return context


SEGMENT_PANEL = Panel(
    name="unit-costs", template_name="metrics/_segment_unit_costs.html", context=segment_panel
)
