"""Writes of budgets, budget alerts, forecasts and report forecasts, and the evaluation that
fires budget alerts.

A write that breaks a rule raises ``ServiceError`` naming the field and changes nothing.
Budget alerts fire once per crossing: the crossing is a ``BudgetAlertEvent`` row whose unique
constraint (alert, budget, period, threshold) lets exactly one evaluation create it, whatever
runs concurrently or again; only the evaluation that created it delivers it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import delivery
from alerts.models import Channel
from core import background
from core.errors import ServiceError, UnprocessableError
from organizations.models import Organization

from . import forecasting, selectors
from .models import (
    AlertBasis,
    Budget,
    BudgetAlert,
    BudgetAlertEvent,
    BudgetPeriod,
    CostForecast,
    PeriodToTrack,
    ReportForecast,
)

logger = logging.getLogger(__name__)

# Enqueued by name (core.background): the tasks module imports this one.
REFRESH_TASK = "budgets.refresh_after_import"
EVALUATE_TASK = "budgets.evaluate_budget_alerts"
DELIVER_TASK = "budgets.deliver_budget_alert_event"

MAX_PERIODS = 240
MAX_THRESHOLD = 1000
MAX_CHILDREN = 100
# A period that ended this recently is still evaluated: late cost data can still cross it.
LATE_DATA_DAYS = 7
MONEY_PLACES = Decimal("0.000001")
# The largest period amount: 15 significant digits with the cents, what every store keeps exactly.
MAX_PERIOD_AMOUNT = Decimal("9999999999999.99")


@dataclass
class PeriodInput:
    start: date
    end: date | None
    amount: Decimal


# --------------------------------------------------------------------------- budgets


def _periods(periods: list[PeriodInput]) -> list[tuple[date, date, Decimal]]:
    """Periods checked: an open end is the end of the start's month; no overlaps."""
    if len(periods) > MAX_PERIODS:
        raise ServiceError(f"at most {MAX_PERIODS} periods.", field="periods")
    checked = []
    for index, period in enumerate(periods):
        end = period.end or selectors.month_end(period.start)
        if end < period.start:
            raise ServiceError(
                f"period {index + 1}: end_at {end} is before start_at {period.start}.",
                field="periods",
            )
        if (end - period.start).days + 1 > selectors.MAX_PERIOD_DAYS:
            raise ServiceError(
                f"period {index + 1}: at most {selectors.MAX_PERIOD_DAYS} days long.",
                field="periods",
            )
        amount = Decimal(str(period.amount))
        if not amount.is_finite() or amount < 0:
            raise ServiceError(
                f"period {index + 1}: amount must be a number of zero or more.", field="periods"
            )
        if amount > MAX_PERIOD_AMOUNT:  # before rounding: a huge one cannot be rounded
            raise ServiceError(
                f"period {index + 1}: amount is more than {MAX_PERIOD_AMOUNT:,}.", field="periods"
            )
        checked.append((period.start, end, amount.quantize(MONEY_PLACES)))
    checked.sort()
    for (start, end, _), (next_start, _, _) in zip(checked, checked[1:], strict=False):
        if next_start <= end:
            raise ServiceError(
                f"periods overlap: the one starting {next_start} begins before the one "
                f"starting {start} ends ({end}).",
                field="periods",
            )
    return checked


def _check_children(budget: Budget | None, children: list[Budget], workspace) -> None:
    if len(children) > MAX_CHILDREN:
        raise ServiceError(f"at most {MAX_CHILDREN} child budgets.", field="child_budget_tokens")
    for child in children:
        if child.workspace_id != workspace.pk:
            raise UnprocessableError(
                f"{child.token} belongs to another workspace.", field="child_budget_tokens"
            )
        if budget is None:
            continue
        ancestor, seen = budget, set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == child.pk:
                raise UnprocessableError(
                    f"{child.token} cannot be a child of itself or of one of its children.",
                    field="child_budget_tokens",
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


def _check_tracked(cost_report, segment, workspace) -> None:
    if cost_report is not None and segment is not None:
        raise ServiceError("a budget tracks a cost report or a segment, not both.")
    tracked = cost_report or segment
    if tracked is not None and tracked.workspace_id != workspace.pk:
        raise UnprocessableError(
            "the cost report belongs to another workspace than the budget.",
            field="cost_report_token",
        )


def _set_periods(budget: Budget, periods: list[tuple[date, date, Decimal]]) -> None:
    budget.periods.all().delete()
    BudgetPeriod.objects.bulk_create(
        [
            BudgetPeriod(budget=budget, start_date=start, end_date=end, amount=amount)
            for start, end, amount in periods
        ]
    )


def _set_children(budget: Budget, children: list[Budget]) -> None:
    Budget.objects.filter(parent=budget).exclude(pk__in=[c.pk for c in children]).update(
        parent=None
    )
    Budget.objects.filter(pk__in=[child.pk for child in children]).update(parent=budget)


@transaction.atomic
def budget_create(
    organization: Organization,
    *,
    workspace,
    name: str,
    cost_report=None,
    segment=None,
    children: list[Budget] = (),
    periods: list[PeriodInput] = (),
    created_by=None,
) -> Budget:
    """A budget over a cost report or a segment with its periods; or, with ``children``, a
    hierarchical budget over them (its own report and periods are then ignored, as Vantage
    does: its periods are its children's)."""
    children = list(children)
    if not name or not name.strip():
        raise ServiceError("must not be blank.", field="name")
    if children:
        cost_report = segment = None
        periods = []
    _check_tracked(cost_report, segment, workspace)
    _check_children(None, children, workspace)
    checked = _periods(list(periods))
    budget = Budget.objects.create(
        organization=organization,
        workspace=workspace,
        name=name.strip(),
        cost_report=cost_report,
        segment=segment,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    _set_periods(budget, checked)
    _set_children(budget, children)
    _enqueue_refresh(organization.pk)
    return budget


@transaction.atomic
def budget_update(budget: Budget, **changes) -> Budget:
    """Change a budget: ``name``, ``tracked`` (``(cost_report, segment)``), ``children``,
    ``periods`` (replaced whole)."""
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    if "name" in changes:
        if not changes["name"] or not changes["name"].strip():
            raise ServiceError("must not be blank.", field="name")
        budget.name = changes["name"].strip()
    children = changes.get("children")
    if children is not None:
        children = list(children)
        _check_children(budget, children, budget.workspace)
    hierarchical = bool(children) or (children is None and budget.children.exists())
    if "tracked" in changes and not hierarchical:
        cost_report, segment = changes["tracked"]
        _check_tracked(cost_report, segment, budget.workspace)
        budget.cost_report, budget.segment = cost_report, segment
    if hierarchical:
        budget.cost_report = budget.segment = None
    budget.save()
    if children is not None:
        _set_children(budget, children)
    if hierarchical:
        _set_periods(budget, [])
    elif "periods" in changes:
        _set_periods(budget, _periods(list(changes["periods"])))
    _enqueue_refresh(budget.organization_id)
    return budget


def budget_delete(budget: Budget) -> None:
    """Its children stay, as budgets of their own (``on_delete=SET_NULL``)."""
    budget.delete()


# --------------------------------------------------------------------------- budget alerts


def _alert_fields(alert: BudgetAlert, changes: dict) -> None:
    if "threshold" in changes:
        threshold = changes["threshold"]
        if not isinstance(threshold, int) or not 1 <= threshold <= MAX_THRESHOLD:
            raise ServiceError(
                f"must be a whole percentage from 1 to {MAX_THRESHOLD}.", field="threshold"
            )
        alert.threshold = threshold
    if "duration_in_days" in changes:
        days = changes["duration_in_days"]
        if days is not None and not 1 <= days <= 31:
            raise ServiceError(
                "must be from 1 to 31 days, or empty for the whole month.",
                field="duration_in_days",
            )
        alert.duration_in_days = days
    if "basis" in changes:
        basis = changes["basis"] or AlertBasis.ACTUAL
        if basis not in AlertBasis.values:
            raise ServiceError(f"must be one of {', '.join(AlertBasis.values)}.", field="basis")
        alert.basis = basis
    if "period_to_track" in changes:
        value = changes["period_to_track"] or PeriodToTrack.START_OF_THE_MONTH
        if value not in PeriodToTrack.values:
            raise ServiceError(
                f"must be one of {', '.join(PeriodToTrack.values)}.", field="period_to_track"
            )
        alert.period_to_track = value
    if "recipient_channels" in changes:
        names = [str(channel).strip() for channel in changes["recipient_channels"] or []]
        if any(not name for name in names):
            raise ServiceError("channels must not be blank.", field="recipient_channels")
        names = list(dict.fromkeys(names))
        known = {channel.name for channel in channels_named(alert.organization, names)}
        missing = [name for name in names if name not in known]
        if missing:
            raise UnprocessableError(
                f'no notification channel named "{missing[0]}" (add it under Alerts → '
                "Channels first).",
                field="recipient_channels",
            )
        alert.recipient_channels = names


def channels_named(organization, names: list[str]) -> list[Channel]:
    """The organization's notification channels (``alerts``) with these names."""
    if not names:
        return []
    return list(Channel.objects.filter(organization=organization, name__in=names))


def _check_alert_budgets(budgets: list[Budget], workspace) -> None:
    if not budgets:
        raise ServiceError("name at least one budget.", field="budget_tokens")
    for budget in budgets:
        if budget.workspace_id != workspace.pk:
            raise UnprocessableError(
                f"{budget.token} belongs to another workspace.", field="budget_tokens"
            )


@transaction.atomic
def budget_alert_create(
    organization: Organization,
    *,
    budgets: list[Budget],
    threshold: int,
    recipients=(),
    duration_in_days: int | None = None,
    period_to_track: str | None = None,
    recipient_channels: list[str] = (),
    basis: str = AlertBasis.ACTUAL,
    created_by=None,
) -> BudgetAlert:
    budgets = list(budgets)
    workspace = budgets[0].workspace if budgets else None
    _check_alert_budgets(budgets, workspace)
    alert = BudgetAlert(
        organization=organization,
        workspace=workspace,
        threshold=0,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    _alert_fields(
        alert,
        {
            "threshold": threshold,
            "duration_in_days": duration_in_days,
            "period_to_track": period_to_track,
            "recipient_channels": list(recipient_channels),
            "basis": basis,
        },
    )
    alert.save()
    alert.budgets.set(budgets)
    alert.recipients.set(list(recipients))
    _enqueue_refresh(organization.pk)
    return alert


@transaction.atomic
def budget_alert_update(alert: BudgetAlert, **changes) -> BudgetAlert:
    _alert_fields(alert, changes)
    if "budgets" in changes:
        _check_alert_budgets(list(changes["budgets"]), alert.workspace)
    alert.save()
    if "budgets" in changes:
        alert.budgets.set(list(changes["budgets"]))
    if "recipients" in changes:
        alert.recipients.set(list(changes["recipients"]))
    _enqueue_refresh(alert.organization_id)
    return alert


def budget_alert_delete(alert: BudgetAlert) -> None:
    alert.delete()


# --------------------------------------------------------------------------- forecasts


def _decimal_text(value: float) -> str:
    return str(Decimal(repr(float(value))).quantize(Decimal("0.01")))


def forecast_refresh(
    *,
    cost_report=None,
    segment=None,
    provider: str = "all",
    service: str = "all",
    today: date | None = None,
) -> CostForecast:
    """Forecast a report's (or segment's) daily costs from its last year and store it: from the
    day after its last cost through the end of that month (or of today's, if later) and
    ``MONTHS_AHEAD`` more months."""
    today = today or timezone.now().date()
    subject = cost_report or segment
    filters = selectors.provider_service_filters(provider, service)
    series = selectors.daily_costs(
        cost_report=cost_report,
        segment=segment,
        start=today - timedelta(days=selectors.HISTORY_DAYS - 1),
        end=today,
        filters=filters,
    )
    history_end = series.last_day
    history_start = min((day for day, v in series.by_day.items() if v), default=None)
    first_forecast_day = (history_end + timedelta(days=1)) if history_end else today
    horizon_end = selectors.month_end(
        selectors.add_months(max(first_forecast_day, today), selectors.MONTHS_AHEAD)
    )
    history = [
        float(series.by_day.get(day, 0))
        for day in (
            selectors.days_between(history_start, history_end) if history_end is not None else []
        )
    ]
    days = selectors.days_between(first_forecast_day, horizon_end)
    result = forecasting.forecast(history, len(days), last_day=history_end or today)
    points = [
        [day.isoformat(), _decimal_text(mean), _decimal_text(low), _decimal_text(high)]
        for day, mean, low, high in zip(days, result.mean, result.lower, result.upper, strict=True)
    ]
    forecast, _ = CostForecast.objects.update_or_create(
        cost_report=cost_report,
        segment=segment,
        provider=provider,
        service=service,
        defaults={
            "organization_id": subject.organization_id,
            "method": result.method,
            "currency": series.currency,
            "history_start": history_start,
            "history_end": history_end,
            "interval_level": forecasting.LEVEL,
            "points": points,
        },
    )
    return forecast


def forecasts_refresh(organization_id, today: date | None = None) -> int:
    """Refresh the stored forecast of every cost report of the organization and of every
    segment a budget tracks (after an import: the history changed). Narrowed forecasts
    (a provider or service) are dropped and made again when asked for."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    CostForecast.objects.filter(organization=organization).exclude(
        provider="all", service="all"
    ).delete()
    reports, segments = selectors.forecast_subjects(organization)
    refreshed = 0
    for subject in [{"cost_report": report} for report in reports] + [
        {"segment": segment} for segment in segments
    ]:
        try:
            forecast_refresh(**subject, today=today)
        except ServiceError as error:
            # One report that cannot be computed (e.g. a filter naming a deleted saved filter)
            # keeps its last forecast; the others are refreshed.
            logger.warning("forecast not refreshed %s: %s", subject, error.message)
        else:
            refreshed += 1
    return refreshed


def forecast_for(
    *, cost_report=None, segment=None, provider="all", service="all", today=None
) -> CostForecast:
    """The stored forecast, made now if there is none yet (a new report, or a narrowing)."""
    found = selectors.stored_forecast(
        cost_report=cost_report, segment=segment, provider=provider, service=service
    )
    if found is not None:
        return found
    return forecast_refresh(
        cost_report=cost_report, segment=segment, provider=provider, service=service, today=today
    )


def _enqueue_refresh(organization_id) -> None:
    """A budget or alert changed: make the forecasts it needs and evaluate its alerts."""
    transaction.on_commit(lambda: background.task(EVALUATE_TASK).delay(str(organization_id)))


def budgets_evaluate(organization_id, today: date | None = None) -> list[BudgetAlertEvent]:
    """Forecasts of the budgets' subjects that have none yet, then the budget alerts."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return []
    for budget in Budget.objects.filter(organization=organization).select_related(
        "cost_report", "segment"
    ):
        if budget.cost_report_id or budget.segment_id:
            forecast_for(cost_report=budget.cost_report, segment=budget.segment, today=today)
    return budget_alerts_evaluate(organization, today=today)


def refresh_after_import(organization_id, today: date | None = None) -> list[BudgetAlertEvent]:
    """What an import (or a budget change) sets off: forecasts, then the budget alerts."""
    forecasts_refresh(organization_id, today=today)
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return []
    return budget_alerts_evaluate(organization, today=today)


# --------------------------------------------------------------------------- alert evaluation


def in_alert_window(alert: BudgetAlert, day: date) -> bool:
    """Vantage's ``duration_in_days``: only the first (``start_of_the_month``) or last
    (``end_of_the_month``) days of the month; empty: the whole month."""
    if not alert.duration_in_days:
        return True
    if alert.period_to_track == PeriodToTrack.END_OF_THE_MONTH:
        return (selectors.month_end(day) - day).days < alert.duration_in_days
    return day.day <= alert.duration_in_days


def _money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "no forecast"
    return f"{value.quantize(Decimal('0.01')):,} {currency}"


def alert_message(alert, budget, period: selectors.PeriodFigures) -> tuple[str, str]:
    """Subject and text that say why: budget, period, threshold, actual, forecast."""
    used = period.used_percent or Decimal(0)
    if alert.basis == AlertBasis.FORECAST:
        forecast_percent = period.forecast_percent or Decimal(0)
        subject = (
            f"Budget {budget.name} is forecast to reach {forecast_percent.quantize(Decimal('1'))}%"
            f" of {period.start:%b %Y} ({alert.threshold}% forecast alert)"
        )
        why = (
            f'The forecast of the budget "{budget.name}" ({budget.token}) for this period '
            f"crossed the {alert.threshold}% threshold of alert {alert.token}."
        )
    else:
        subject = (
            f"Budget {budget.name} reached {used.quantize(Decimal('1'))}% of "
            f"{period.start:%b %Y} ({alert.threshold}% alert)"
        )
        why = (
            f'The budget "{budget.name}" ({budget.token}) crossed the {alert.threshold}% '
            f"threshold of alert {alert.token}."
        )
    lines = [
        why,
        f"Period: {period.start.isoformat()} to {period.end.isoformat()}",
        f"Budget: {_money(period.amount, period.currency)}",
        f"Actual: {_money(period.actual, period.currency)} "
        f"({used.quantize(Decimal('0.1'))}% of the budget"
        + (f", costs through {period.data_through.isoformat()})" if period.data_through else ")"),
        f"Threshold: {alert.threshold}% = "
        f"{_money(period.amount * alert.threshold / 100, period.currency)}",
        f"Forecast for the period: {_money(period.forecast, period.currency)}"
        + (
            f" ({period.forecast_percent.quantize(Decimal('0.1'))}% of the budget, "
            f"variance {_money(period.variance, period.currency)})"
            if period.forecast_percent is not None
            else ""
        ),
    ]
    return subject, "\n".join(lines)


def budget_alerts_evaluate(
    organization: Organization, today: date | None = None
) -> list[BudgetAlertEvent]:
    """Fire every alert whose budget's actual reached its threshold in a current (or just
    ended) period and has not fired for that crossing yet; deliver what fired. Returns the
    events this call created (none on a re-run)."""
    today = today or timezone.now().date()
    fired = []
    for alert in selectors.alerts_to_evaluate(organization):
        for budget in alert.budgets.all():
            for period in selectors.budget_figures(budget, today):
                if not _evaluated(period, today) or not period.amount:
                    continue
                if not in_alert_window(alert, min(today, period.end)):
                    continue
                if not crossed(alert, period, today):
                    continue
                event = _record_crossing(alert, budget, period)
                if event is not None:
                    fired.append(event)
    for event in fired:
        transaction.on_commit(lambda pk=event.pk: background.task(DELIVER_TASK).delay(pk))
    return fired


def crossed(alert: BudgetAlert, period: selectors.PeriodFigures, today: date) -> bool:
    """Whether the period's actual (or, for a forecast alert, its forecast, while the period
    runs) reached the alert's threshold."""
    if alert.basis == AlertBasis.FORECAST:
        if period.forecast is None or period.end < today:
            return False
        return period.forecast * 100 >= period.amount * alert.threshold
    return period.actual * 100 >= period.amount * alert.threshold


def _evaluated(period: selectors.PeriodFigures, today: date) -> bool:
    return period.start <= today <= period.end + timedelta(days=LATE_DATA_DAYS)


def _record_crossing(alert, budget, period) -> BudgetAlertEvent | None:
    """The crossing's row, if this call is the one that created it (else None)."""
    subject, text = alert_message(alert, budget, period)
    try:
        with transaction.atomic():
            return BudgetAlertEvent.objects.create(
                alert=alert,
                budget=budget,
                period_start=period.start,
                period_end=period.end,
                threshold=alert.threshold,
                basis=alert.basis,
                amount=period.amount,
                actual=period.actual.quantize(MONEY_PLACES),
                forecast=(
                    None if period.forecast is None else period.forecast.quantize(MONEY_PLACES)
                ),
                currency=period.currency,
                subject=subject[:255],
                message=text,
            )
    except IntegrityError:
        return None


def event_payload(event: BudgetAlertEvent) -> dict:
    def text(value):
        return None if value is None else str(value.normalize())

    return {
        "type": "budget_alert",
        "budget_alert_token": event.alert.token,
        "budget_token": event.budget.token,
        "budget_name": event.budget.name,
        "period": {
            "start_at": event.period_start.isoformat(),
            "end_at": event.period_end.isoformat(),
        },
        "threshold": event.threshold,
        "basis": event.basis,
        "amount": text(event.amount),
        "actual": text(event.actual),
        "forecast": text(event.forecast),
        "currency": event.currency,
        "fired_at": event.fired_at.isoformat(),
    }


def budget_alert_event_deliver(event_id: int) -> BudgetAlertEvent | None:
    """Hand a crossing to the delivery machinery (``alerts.delivery.deliver``: idempotent per
    target and event key, so running this twice sends nothing twice): the alert's recipients
    by email, and its channels (by name; none named: the organization's enabled channels)."""
    event = (
        BudgetAlertEvent.objects.select_related("alert__organization", "budget")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return None
    alert = event.alert
    emails = sorted({user.email for user in alert.recipients.all() if user.email})
    sent = delivery.deliver(
        alert.organization,
        event_key=event.event_key,
        subject=event.subject,
        text=event.message,
        payload=event_payload(event),
        emails=emails,
        channels=channels_named(alert.organization, alert.recipient_channels) or None,
    )
    if sent:
        event.delivered_at, event.delivery_error = timezone.now(), ""
    else:
        # Recorded, not sent: the page says so instead of claiming a delivery.
        event.delivered_at, event.delivery_error = None, "nobody to send to"
    event.save(update_fields=["delivered_at", "delivery_error"])
    return event


# --------------------------------------------------------------------------- report forecasts


def _report_forecast_fields(forecast: ReportForecast, changes: dict) -> None:
    if "title" in changes:
        if not changes["title"] or not changes["title"].strip():
            raise ServiceError("must not be blank.", field="title")
        forecast.title = changes["title"].strip()
    if "scenario_model_tokens" in changes:
        tokens = [str(token) for token in changes["scenario_model_tokens"] or []]
        if any(not token.strip() for token in tokens):
            raise ServiceError("tokens must not be blank.", field="scenario_model_tokens")
        forecast.scenario_model_tokens = list(dict.fromkeys(tokens))
    if "business_metric_token" in changes:
        forecast.business_metric_token = changes["business_metric_token"] or None


def _make_default(forecast: ReportForecast, default: bool | None) -> None:
    if default is None:
        return
    if default:
        ReportForecast.objects.filter(cost_report=forecast.cost_report, is_default=True).exclude(
            pk=forecast.pk
        ).update(is_default=False)
    forecast.is_default = default


@transaction.atomic
def report_forecast_create(
    organization,
    *,
    cost_report,
    title: str,
    scenario_model_tokens=(),
    business_metric_token=None,
    set_as_default: bool | None = None,
    created_by=None,
) -> ReportForecast:
    forecast = ReportForecast(
        organization=organization,
        cost_report=cost_report,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    _report_forecast_fields(
        forecast,
        {
            "title": title,
            "scenario_model_tokens": list(scenario_model_tokens),
            "business_metric_token": business_metric_token,
        },
    )
    forecast.save()
    _make_default(forecast, set_as_default)
    forecast.save()
    return forecast


@transaction.atomic
def report_forecast_update(forecast: ReportForecast, **changes) -> ReportForecast:
    _report_forecast_fields(forecast, changes)
    _make_default(forecast, changes.get("set_as_default"))
    forecast.save()
    return forecast


def report_forecast_delete(forecast: ReportForecast) -> None:
    forecast.delete()
