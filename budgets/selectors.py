"""Reads of budgets, budget alerts, forecasts and report forecasts, and the figures of a budget:
actual, forecast and variance per period.

Every ``*_visible`` function is the tenant boundary of its model (the organization's objects in
the workspaces the credential reaches). Costs come from ``reports.costs`` (a cost report's
filters and settings, or a segment's engine figures): the same numbers as ``/v2/costs``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from reports import costs as report_costs
from reports import selectors as report_selectors
from reports.models import CostReport, DateBin
from segments import selectors as segment_selectors
from segments.filter_tree import Node, parse_vql

from .models import (
    Budget,
    BudgetAlert,
    BudgetAlertEvent,
    BudgetPeriod,
    CostForecast,
    ReportForecast,
)

ZERO = Decimal(0)
# How far back a forecast learns from (a year shows the weekly pattern and the trend).
HISTORY_DAYS = 365
# Forecasts run to the end of the month after the last cost and this many months beyond.
MONTHS_AHEAD = 2
# A budget is "at risk" when its forecast for the current period reaches this share of it.
AT_RISK_PERCENT = Decimal(90)


# --------------------------------------------------------------------------- scoping


def budgets_visible(organization, workspaces) -> QuerySet[Budget]:
    return (
        Budget.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related(
            "workspace",
            "cost_report__organization",
            "segment__organization",
            "parent",
            "created_by",
        )
        .prefetch_related(
            "periods",
            "cost_report__saved_filters",
            Prefetch(
                "children",
                queryset=Budget.objects.select_related(
                    "cost_report__organization", "segment__organization"
                )
                .prefetch_related("periods", "children")
                .order_by("created_at", "id"),
            ),
            Prefetch("alerts", queryset=BudgetAlert.objects.order_by("created_at", "id")),
        )
    )


def budget_alerts_visible(organization, workspaces) -> QuerySet[BudgetAlert]:
    return (
        BudgetAlert.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related("workspace", "created_by")
        .prefetch_related(
            Prefetch("budgets", queryset=Budget.objects.order_by("created_at", "id")),
            "recipients",
        )
    )


def report_forecasts_visible(organization, workspaces) -> QuerySet[ReportForecast]:
    return ReportForecast.objects.filter(
        organization=organization, cost_report__workspace__in=workspaces
    ).select_related("cost_report", "created_by")


def alert_events_of(budget: Budget) -> QuerySet[BudgetAlertEvent]:
    return BudgetAlertEvent.objects.filter(budget=budget).select_related("alert")


def tracked_segment(organization, workspaces, report_token: str):
    """The segment whose ``report_token`` this is (Vantage reads a segment's report so)."""
    return (
        segment_selectors.segments_visible(organization, workspaces)
        .filter(report_token=report_token)
        .first()
    )


# --------------------------------------------------------------------------- dates


def month_end(day: date) -> date:
    if day.month == 12:  # without stepping into the next year (there is none after 9999)
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


# --------------------------------------------------------------------------- costs


@dataclass
class Series:
    """Daily costs of one subject in one currency (missing days cost nothing)."""

    currency: str
    by_day: dict[date, Decimal] = field(default_factory=dict)

    def total(self, start: date, end: date) -> Decimal:
        return sum((v for day, v in self.by_day.items() if start <= day <= end), ZERO)

    @property
    def last_day(self) -> date | None:
        return max((day for day, value in self.by_day.items() if value), default=None)


def _query(start: date, end: date, report: CostReport | None = None, filters=()):
    return report_selectors.cost_query_for(
        report=report,
        filters=list(filters),
        groupings=[],
        start=start,
        end=end,
        date_bin=DateBin.DAY,
        settings={"show_previous_period": False},
        today=end,
    )


def daily_costs(
    *, cost_report=None, segment=None, start: date, end: date, filters: list[Node] = ()
) -> Series:
    """The subject's cost per day from ``start`` to ``end``: a report's (its filters, saved
    filters, folder filters and settings, as ``/v2/costs`` sums them, plus ``filters``) or a
    segment's (the segments engine's figures)."""
    if segment is not None:
        result = report_costs.segment_report_costs(segment, _query(start, end))
    elif cost_report is not None:
        query = _query(start, end, cost_report, filters)
        result = report_costs.report_costs(cost_report.organization, query)
    else:
        return Series("USD")
    currency = result.currency
    by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for line in result.lines:
        if line.currency == currency:
            by_day[line.accrued_at] += line.amount
    return Series(currency, dict(by_day))


def provider_service_filters(provider: str = "all", service: str = "all") -> list[Node]:
    """Vantage's ``provider``/``service`` narrowing of a forecast as filter trees."""

    def quoted(text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    filters = []
    if provider and provider != "all":
        filters.append(parse_vql(f"costs.provider = {quoted(provider)}", vantage_rules=False))
    if service and service != "all":
        filters.append(parse_vql(f"costs.service = {quoted(service)}", vantage_rules=False))
    return filters


# --------------------------------------------------------------------------- forecasts


def stored_forecast(
    *, cost_report=None, segment=None, provider="all", service="all"
) -> CostForecast | None:
    if cost_report is None and segment is None:
        return None
    return CostForecast.objects.filter(
        cost_report=cost_report, segment=segment, provider=provider, service=service
    ).first()


@dataclass
class ForecastPoint:
    day: date
    amount: Decimal
    lower: Decimal
    upper: Decimal


def forecast_points(forecast: CostForecast | None) -> list[ForecastPoint]:
    if forecast is None:
        return []
    return [
        ForecastPoint(date.fromisoformat(day), Decimal(amount), Decimal(lower), Decimal(upper))
        for day, amount, lower, upper in forecast.points
    ]


# --------------------------------------------------------------------------- budget figures


@dataclass
class PeriodFigures:
    """A period of a budget: what it allows, what was spent, what it will come to."""

    start: date
    end: date
    amount: Decimal
    currency: str
    actual: Decimal = ZERO
    # Actual so far plus the forecast of the days after the last cost (None: nothing to
    # forecast from: the budget tracks nothing or has no forecast yet).
    forecast: Decimal | None = None
    forecast_lower: Decimal | None = None
    forecast_upper: Decimal | None = None
    # The last day with costs inside the period (None: no costs yet).
    data_through: date | None = None

    @property
    def variance(self) -> Decimal | None:
        """Forecast minus budget: above zero, the period is heading over."""
        return None if self.forecast is None else self.forecast - self.amount

    @property
    def used_percent(self) -> Decimal | None:
        return self.actual / self.amount * 100 if self.amount else None

    @property
    def forecast_percent(self) -> Decimal | None:
        if self.forecast is None or not self.amount:
            return None
        return self.forecast / self.amount * 100

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def budget_periods(budget: Budget) -> list[tuple[date, date, Decimal]]:
    """A budget's periods; a hierarchical budget's are its children's, the amounts of equal
    periods added up."""
    children = list(budget.children.all())
    if not children:
        return [(p.start_date, p.end_date, p.amount) for p in budget.periods.all()]
    merged: dict[tuple[date, date], Decimal] = defaultdict(lambda: ZERO)
    for child in children:
        for start, end, amount in budget_periods(child):
            merged[(start, end)] += amount
    return [(start, end, amount) for (start, end), amount in sorted(merged.items())]


def leaf_budgets(budget: Budget, seen=None) -> list[Budget]:
    seen = seen if seen is not None else set()
    if budget.pk in seen:
        return []
    seen.add(budget.pk)
    children = list(budget.children.all())
    if not children:
        return [budget] if (budget.cost_report_id or budget.segment_id) else []
    return [leaf for child in children for leaf in leaf_budgets(child, seen)]


# A period is read in one cost query at most: no longer than the query's range limit.
MAX_PERIOD_DAYS = report_costs.MAX_DAYS


def cost_windows(periods, last_day: date) -> list[tuple[date, date]]:
    """The days of ``periods`` up to ``last_day`` as few cost queries as the cost query's range
    limit (``report_costs.MAX_DAYS``) allows: periods years apart need no query in between."""
    windows: list[tuple[date, date]] = []
    for start, end, _ in sorted(periods):
        end = min(end, last_day)
        while start <= end:
            if windows and (start - windows[-1][0]).days < report_costs.MAX_DAYS:
                window_start, window_end = windows[-1]
                if start <= window_end:  # already covered
                    start = window_end + timedelta(days=1)
                    continue
                stop = min(end, window_start + timedelta(days=report_costs.MAX_DAYS - 1))
                windows[-1] = (window_start, stop)
            else:
                stop = min(end, start + timedelta(days=report_costs.MAX_DAYS - 1))
                windows.append((start, stop))
            start = stop + timedelta(days=1)
    return windows


def _costs_of_periods(subject: dict, periods, last_day: date) -> Series:
    series = Series("USD")
    for index, (start, end) in enumerate(cost_windows(periods, last_day)):
        window = daily_costs(**subject, start=start, end=end)
        if index == 0:
            series.currency = window.currency
        if window.currency == series.currency:
            series.by_day.update(window.by_day)
    return series


def budget_figures(budget: Budget, today: date, with_forecast: bool = True) -> list[PeriodFigures]:
    """Actual, forecast and variance of every period of ``budget`` (a hierarchical budget: the
    sums of its leaves). Future periods have no actual; past ones a forecast equal to it.
    ``with_forecast=False`` reads no stored forecast (Vantage's performance needs none)."""
    periods = budget_periods(budget)
    if not periods:
        return []
    leaves = leaf_budgets(budget)
    last_actual = min(max(end for _, end, _ in periods), today)
    series_list, forecasts, currency = [], [], "USD"
    for leaf in leaves:
        subject = {"cost_report": leaf.cost_report, "segment": leaf.segment}
        series = _costs_of_periods(subject, periods, last_actual)
        series_list.append(series)
        forecasts.append(forecast_points(stored_forecast(**subject)) if with_forecast else [])
    if series_list:
        currency = series_list[0].currency
    figures = []
    for start, end, amount in periods:
        period = PeriodFigures(start, end, amount, currency)
        if start <= today:
            period.actual = sum((series.total(start, end) for series in series_list), ZERO)
            days = [s.last_day for s in series_list if s.last_day and start <= s.last_day <= end]
            period.data_through = max(days, default=None)
        if leaves and with_forecast:
            period.forecast, period.forecast_lower, period.forecast_upper = _period_forecast(
                period, series_list, forecasts, today
            )
        figures.append(period)
    return figures


def _period_forecast(period: PeriodFigures, series_list, forecasts, today: date):
    """Each leaf's actual up to its last cost, plus its forecast of the period's later days.
    A leaf without a stored forecast adds only its actual; periods already over are their
    actual."""
    if period.data_through is not None and period.data_through >= period.end:
        return period.actual, period.actual, period.actual
    total = lower = upper = ZERO
    any_forecast = False
    for series, points in zip(series_list, forecasts, strict=True):
        actual = series.total(period.start, period.end)
        total, lower, upper = total + actual, lower + actual, upper + actual
        for point in points:
            if period.start <= point.day <= period.end and (
                series.last_day is None or point.day > series.last_day
            ):
                any_forecast = True
                total += point.amount
                lower += point.lower
                upper += point.upper
    if not any_forecast and period.end >= today:
        return None, None, None
    return total, lower, upper


def budget_performance(budgets, today: date) -> dict[int, list[PeriodFigures]]:
    """Vantage's ``performance`` of each budget: actual and amount of every period that has
    started (no forecast is read)."""
    return {
        budget.pk: [
            period
            for period in budget_figures(budget, today, with_forecast=False)
            if period.start <= today
        ]
        for budget in budgets
    }


def current_period(figures: list[PeriodFigures], today: date) -> PeriodFigures | None:
    return next((period for period in figures if period.contains(today)), None)


@dataclass
class BudgetAtRisk:
    budget: Budget
    period: PeriodFigures


def budgets_at_risk(organization, today: date, workspaces=None) -> list[BudgetAtRisk]:
    """Budgets whose current period is forecast to reach ``AT_RISK_PERCENT`` of its amount (or
    whose actual already did), the most over first. Child budgets are shown on their own too.
    Without ``workspaces``: every workspace of the organization (what a member sees)."""
    if workspaces is None:
        workspaces = organization.workspaces.all()
    found = []
    for budget in budgets_visible(organization, workspaces):
        period = current_period(budget_figures(budget, today), today)
        if period is None or not period.amount:
            continue
        reached = max(
            period.used_percent or ZERO,
            period.forecast_percent if period.forecast_percent is not None else ZERO,
        )
        if reached >= AT_RISK_PERCENT:
            found.append(BudgetAtRisk(budget, period))
    return sorted(found, key=lambda item: -(item.period.forecast_percent or ZERO))


def budget_chart(budget: Budget, figures: list[PeriodFigures], today: date) -> dict | None:
    """The budget page's chart: cumulative actual and forecast per day of the current period
    (else the latest one), the prediction band around the forecast, and the budget line."""
    period = current_period(figures, today) or next(
        (p for p in reversed(figures) if p.start <= today), figures[0] if figures else None
    )
    if period is None:
        return None
    leaves = leaf_budgets(budget)
    actual_by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    forecast_by_day: dict[date, list[Decimal]] = {}
    for leaf in leaves:
        subject = {"cost_report": leaf.cost_report, "segment": leaf.segment}
        series = (
            daily_costs(**subject, start=period.start, end=min(period.end, today))
            if period.start <= today
            else Series(period.currency)
        )
        for day, value in series.by_day.items():
            actual_by_day[day] += value
        last = series.last_day
        for point in forecast_points(stored_forecast(**subject)):
            if period.start <= point.day <= period.end and (last is None or point.day > last):
                values = forecast_by_day.setdefault(point.day, [ZERO, ZERO, ZERO])
                values[0] += point.amount
                values[1] += point.lower
                values[2] += point.upper
    days = days_between(period.start, period.end)
    last_actual = max(actual_by_day, default=None)
    actual, forecast, lower, upper = [], [], [], []
    running = running_mean = running_low = running_high = ZERO
    for day in days:
        running += actual_by_day.get(day, ZERO)
        in_history = last_actual is not None and day <= last_actual
        actual.append(float(running) if in_history else None)
        if day in forecast_by_day:
            mean, low, high = forecast_by_day[day]
            if not running_mean:
                running_mean = running_low = running_high = running
            running_mean += mean
            running_low += low
            running_high += high
            forecast.append(float(running_mean))
            lower.append(float(running_low))
            upper.append(float(running_high))
        else:
            # The forecast line starts at the last actual point so the two lines join.
            joined = day == last_actual and bool(forecast_by_day)
            forecast.append(float(running) if joined else None)
            lower.append(float(running) if joined else None)
            upper.append(float(running) if joined else None)
    band = "rgba(38, 87, 217, 0.15)"
    return {
        "labels": [day.isoformat() for day in days],
        "currency": period.currency,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "datasets": [
            {"label": "Actual (cumulative)", "data": actual, "color": "#1e7b34"},
            {
                "label": "Forecast",
                "data": forecast,
                "color": "#2657d9",
                "borderDash": [6, 4],
            },
            {
                "label": "Prediction interval (upper)",
                "data": upper,
                "color": band,
                "fill": "+1",
                "pointRadius": 0,
                "borderWidth": 0,
            },
            {
                "label": "Prediction interval (lower)",
                "data": lower,
                "color": band,
                "pointRadius": 0,
                "borderWidth": 0,
            },
            {
                "label": "Budget",
                "data": [float(period.amount)] * len(days),
                "color": "#b42318",
                "pointRadius": 0,
            },
        ],
    }


def forecast_subjects(organization):
    """What gets a stored forecast after an import: every cost report of the organization and
    every segment a budget tracks."""
    reports = list(CostReport.objects.filter(organization=organization))
    segments = {
        budget.segment
        for budget in Budget.objects.filter(
            organization=organization, segment__isnull=False
        ).select_related("segment__organization")
    }
    return reports, sorted(segments, key=lambda segment: segment.pk)


def alerts_to_evaluate(organization) -> QuerySet[BudgetAlert]:
    return BudgetAlert.objects.filter(organization=organization).prefetch_related(
        Prefetch(
            "budgets",
            queryset=Budget.objects.select_related(
                "cost_report__organization", "segment__organization"
            ).prefetch_related("periods", "children"),
        ),
        "recipients",
    )


def periods_of(budget: Budget) -> QuerySet[BudgetPeriod]:
    return budget.periods.all()
