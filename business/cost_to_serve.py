"""Cost to serve: a segment's (or cost report's) cost split across customers by their usage.

The one rule
------------
For every day of the period, the source's cost of that day is split across the labels of a
business metric in proportion to their amount that day: ``cost_d × usage_cd / Σ_c usage_cd``.
The business metric is labelled by customer (a live metric fed by a billable metric with
``label_dimension="customer"``, or uploaded values whose labels are customers' external ids).

What cannot be given to a customer is kept, as lines of its own, never dropped:

- **idle**: the cost of days on which no usage at all was metered;
- **unattributed**: the share of usage whose label is no customer of the organization (the
  ``""`` unlabelled value, or an unknown external id).

Rounding: shares are exact decimals; each line is then rounded to cents by the largest
remainder method: every line is floored to the cent, and the cents missing to reach the total
(the period's exact cost rounded half-up to the cent) go one each to the lines with the largest
remainders (ties: larger exact cost first, then label). The lines always add up to the total,
to the cent.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from costs.currencies import currencies
from metrics.models import Customer
from reports.models import CostReport
from segments.models import Segment
from segments.selectors import segment_cost_series

from .models import BusinessMetric
from .selectors import daily_usage_totals, daily_values, report_cost_by_bin

CENT = Decimal("0.01")
ZERO = Decimal(0)
IDLE = "idle"
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True)
class CostSource:
    """Where the cost comes from: a segment or a cost report, with its cost per day and its
    currency (``daily_costs(start, end) -> ({day: cost}, currency)``)."""

    kind: str  # "segment" or "report"
    token: str
    name: str
    daily_costs: Callable[[datetime.date, datetime.date], tuple[dict, str]]
    object: object = None


def segment_source(segment: Segment) -> CostSource:
    """A segment's cost: the segments engine's daily figures, with its report settings."""

    def daily(start, end):
        found = currencies(segment.organization, segment.provider)
        currency = found[0] if len(found) == 1 else "USD"
        return segment_cost_series(segment, "day", start, end), currency

    return CostSource("segment", segment.token, segment.name, daily, segment)


def report_source(report: CostReport, today: datetime.date) -> CostSource:
    """A cost report's cost: ``reports.costs.report_costs`` per day, with its filters."""

    def daily(start, end):
        return report_cost_by_bin(report, start, end, "day", today)

    return CostSource("report", report.token, report.title, daily, report)


@dataclass
class Line:
    """One line of a cost-to-serve split: a customer, or the idle / unattributed remainder."""

    key: str  # the customer's external id, or IDLE / UNATTRIBUTED
    name: str
    customer: Customer | None
    usage: Decimal
    exact_cost: Decimal
    cost: Decimal = ZERO  # rounded to the cent (largest remainder)
    price_per_unit: Decimal | None = None

    @property
    def is_customer(self) -> bool:
        return self.customer is not None

    @property
    def unit_cost(self) -> Decimal | None:
        return self.exact_cost / self.usage if self.usage else None

    @property
    def revenue(self) -> Decimal | None:
        if self.price_per_unit is None or not self.is_customer:
            return None
        return (self.usage * self.price_per_unit).quantize(CENT, ROUND_HALF_UP)

    @property
    def gross_margin(self) -> Decimal | None:
        return None if self.revenue is None else self.revenue - self.cost

    @property
    def gross_margin_percent(self) -> Decimal | None:
        if self.revenue is None or not self.revenue:
            return None
        return (self.gross_margin / self.revenue * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class CostToServe:
    source: CostSource
    metric: BusinessMetric
    start: datetime.date
    end: datetime.date
    total: Decimal  # the period's cost, rounded to the cent
    exact_total: Decimal
    currency: str = "USD"
    lines: list[Line] = field(default_factory=list)

    @property
    def customers(self) -> list[Line]:
        return [line for line in self.lines if line.is_customer]

    @property
    def remainder(self) -> list[Line]:
        return [line for line in self.lines if not line.is_customer]

    def line_of(self, external_id: str) -> Line | None:
        return next((line for line in self.customers if line.key == external_id), None)


def split_daily_cost(
    daily_costs: dict[datetime.date, Decimal],
    daily_usage: dict[datetime.date, dict[str, Decimal]],
) -> tuple[dict[str, Decimal], dict[str, Decimal], Decimal]:
    """Exact cost and usage per label over the days, and the idle cost (days without usage)."""
    cost_of: dict[str, Decimal] = defaultdict(Decimal)
    usage_of: dict[str, Decimal] = defaultdict(Decimal)
    idle = ZERO
    for day in sorted(set(daily_costs) | set(daily_usage)):
        cost = daily_costs.get(day, ZERO)
        # Only positive usage takes a share (a negative amount is a correction, not usage).
        usage = {label: amount for label, amount in daily_usage.get(day, {}).items() if amount > 0}
        total_usage = sum(usage.values(), ZERO)
        for label, amount in usage.items():
            usage_of[label] += amount
        if not total_usage:
            idle += cost
            continue
        per_unit = cost / total_usage  # one division a day (28 significant digits)
        for label, amount in usage.items():
            cost_of[label] += amount * per_unit
    return dict(cost_of), dict(usage_of), idle


def largest_remainder(exact: dict[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Round each amount to the cent so that they add up to ``total`` (a whole number of cents):
    floor each, then one more cent to the largest remainders (ties: larger amount, then key)."""
    floors = {key: value.quantize(CENT, ROUND_FLOOR) for key, value in exact.items()}
    missing = int((total - sum(floors.values(), ZERO)) / CENT)
    order = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), -exact[key], key))
    if missing < 0 or missing > len(order):
        raise ValueError("the total is not the rounded sum of the amounts")
    for key in order[:missing]:
        floors[key] += CENT
    return floors


def cost_to_serve(
    source: CostSource, metric: BusinessMetric, start: datetime.date, end: datetime.date
) -> CostToServe:
    """Split the source's cost from ``start`` to ``end`` across the metric's customers."""
    daily_costs, currency = source.daily_costs(start, end)
    daily_usage: dict[datetime.date, dict[str, Decimal]] = defaultdict(dict)
    for day, label, amount in daily_values(metric, start, end):
        daily_usage[day][label] = amount
    cost_of, usage_of, idle = split_daily_cost(daily_costs, daily_usage)
    customers = {
        customer.external_id: customer
        for customer in Customer.objects.filter(organization_id=metric.organization_id)
    }
    lines: dict[str, Line] = {}
    unattributed_cost, unattributed_usage = ZERO, ZERO
    for label, exact in cost_of.items():
        customer = customers.get(label)
        if customer is None:
            unattributed_cost += exact
            unattributed_usage += usage_of[label]
            continue
        lines[label] = Line(
            label, customer.name, customer, usage_of[label], exact, ZERO, metric.price_per_unit
        )
    lines[UNATTRIBUTED] = Line(
        UNATTRIBUTED, "Unattributed usage", None, unattributed_usage, unattributed_cost
    )
    lines[IDLE] = Line(IDLE, "Idle (no metered usage)", None, ZERO, idle)
    exact_total = sum(daily_costs.values(), ZERO)
    total = exact_total.quantize(CENT, ROUND_HALF_UP)
    rounded = largest_remainder({key: line.exact_cost for key, line in lines.items()}, total)
    for key, line in lines.items():
        line.cost = rounded[key]
    ordered = sorted(
        (line for line in lines.values() if line.is_customer), key=lambda line: -line.exact_cost
    )
    return CostToServe(
        source,
        metric,
        start,
        end,
        total,
        exact_total,
        currency,
        [*ordered, lines[UNATTRIBUTED], lines[IDLE]],
    )


def month_range(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = month.replace(day=1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, following - datetime.timedelta(days=1)


@dataclass
class TrendPoint:
    month: datetime.date
    usage: Decimal
    cost: Decimal
    unit_cost: Decimal | None


def customer_trend(
    source: CostSource,
    metric: BusinessMetric,
    external_id: str,
    last_month: datetime.date,
    months=6,
) -> list[TrendPoint]:
    """A customer's monthly usage, cost to serve and unit cost over the last ``months``, by the
    same daily rule, read without splitting every other customer: per day only the customer's
    usage and the day's total usage are needed. Each month's cost is rounded half-up to the
    cent on its own (the split of a whole month, with its largest-remainder cents, is the
    customers table's and the statements'; they may differ from this by a cent)."""
    start = last_month.replace(day=1)
    for _ in range(months - 1):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    end = month_range(last_month)[1]
    daily_costs, _currency = source.daily_costs(start, end)
    totals = daily_usage_totals(metric, start, end)
    usage_by_month: dict[datetime.date, Decimal] = defaultdict(Decimal)
    cost_by_month: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for day, _label, amount in daily_values(metric, start, end, [external_id]):
        if amount <= 0 or not totals.get(day):
            continue
        month = day.replace(day=1)
        usage_by_month[month] += amount
        cost_by_month[month] += daily_costs.get(day, ZERO) * amount / totals[day]
    points = []
    month = start
    while month <= last_month:
        usage = usage_by_month[month]
        cost = cost_by_month[month].quantize(CENT, ROUND_HALF_UP)
        unit_cost = cost_by_month[month] / usage if usage else None
        points.append(TrendPoint(month, usage, cost, unit_cost))
        month = month_range(month)[1] + datetime.timedelta(days=1)
    return points
