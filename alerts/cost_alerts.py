"""Cost alerts: a report's cost this period to date against the same days of the previous one.

Vantage's model: an interval (day, week, month, quarter), a threshold in currency or percent
(with a minimum amount for percentages) and the reports it watches. Costline compares the
current calendar period up to the organization's latest day of cost data with the same number
of days at the start of the previous period (week: Monday to Sunday), so a month that is 20%
over last month's pace fires on the day it crosses, not at its end. An alert fires once per
report and period (``AlertEvent``'s unique constraint), whatever re-runs or re-imports follow.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ServiceError
from organizations.models import Organization
from reports import costs as report_costs
from reports import selectors as report_selectors
from reports.models import CostReport

from . import delivery
from .models import AlertEvent, Channel, CostAlert, Interval, UnitType

logger = logging.getLogger("costline.alerts")
ZERO = Decimal(0)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


def period_start(day: datetime.date, interval: str) -> datetime.date:
    if interval == Interval.DAY:
        return day
    if interval == Interval.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if interval == Interval.MONTH:
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def comparison_windows(end: datetime.date, interval: str):
    """(current start, end) and (previous start, previous end): the same number of days."""
    start = period_start(end, interval)
    if interval == Interval.DAY:
        previous_start = start - datetime.timedelta(days=1)
    elif interval == Interval.WEEK:
        previous_start = start - datetime.timedelta(days=7)
    else:
        previous_start = add_months(start, -1 if interval == Interval.MONTH else -3)
    # The same number of days, but never past the previous period's end (31 March → 28 Feb).
    elapsed = datetime.timedelta(days=(end - start).days)
    previous_end = min(previous_start + elapsed, start - datetime.timedelta(days=1))
    return (start, end), (previous_start, previous_end)


def report_total(organization, report: CostReport, start, end) -> tuple[Decimal, str]:
    query = report_selectors.cost_query_for(
        report=report,
        groupings=[],
        start=start,
        end=end,
        date_bin="day",
        settings={"show_previous_period": False},
        today=end,
    )
    result = report_costs.report_costs(organization, query)
    return result.totals.get(result.currency, ZERO), result.currency


def crossing(alert: CostAlert, current: Decimal, previous: Decimal) -> tuple[bool, Decimal | None]:
    """Whether the change fires the alert, and the change in percent (None without a base)."""
    change = current - previous
    percent = change / previous * 100 if previous > 0 else None
    if alert.unit_type == UnitType.CURRENCY:
        return change >= alert.threshold and change > 0, percent
    if percent is None or percent < alert.threshold or change <= 0:
        return False, percent
    if alert.minimum_threshold is not None and change < alert.minimum_threshold:
        return False, percent
    return True, percent


def cost_alerts_evaluate(organization: Organization, end: datetime.date) -> list[AlertEvent]:
    """Check every cost alert of the organization as of ``end``; record and send what fires."""
    fired = []
    alerts = CostAlert.objects.filter(organization=organization).prefetch_related("reports")
    for alert in alerts:
        (start, _), (previous_start, previous_end) = comparison_windows(end, alert.interval)
        for report in alert.reports.all():
            try:
                current, currency = report_total(organization, report, start, end)
                previous, _ = report_total(organization, report, previous_start, previous_end)
            except ServiceError as error:
                logger.warning(
                    "cost alert %s: report %s skipped: %s", alert.token, report.token, error.message
                )
                continue
            fires, percent = crossing(alert, current, previous)
            if not fires:
                continue
            event = event_record(alert, report, start, end, current, previous, percent, currency)
            if event is not None:
                event_send(event)
                fired.append(event)
    return fired


def event_record(alert, report, start, end, current, previous, percent, currency):
    change = current - previous
    share = f" ({percent:+.1f}%)" if percent is not None else ""
    description = (
        f"{report.title}: {currency} {current:,.2f} from {start:%d %b} to {end:%d %b %Y}, "
        f"{currency} {change:+,.2f}{share} against {currency} {previous:,.2f} over the same days "
        f"of the previous {alert.interval} (alert: "
        + (
            f"{currency} {alert.threshold:,.2f} or more"
            if alert.unit_type == UnitType.CURRENCY
            else f"{alert.threshold:,.2f}% or more"
        )
        + ")."
    )
    try:
        with transaction.atomic():
            return AlertEvent.objects.create(
                organization=alert.organization,
                cost_alert=alert,
                report_token=report.token,
                period_start=start,
                alert_type=f"{alert.interval}_{alert.unit_type}_increase",
                description=description,
                metadata={
                    "interval": alert.interval,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "currency": currency,
                    "current_amount": str(current),
                    "previous_amount": str(previous),
                    "change": str(change),
                    "change_percent": None if percent is None else f"{percent:.2f}",
                    "threshold": str(alert.threshold),
                    "unit_type": alert.unit_type,
                },
                triggered_at=timezone.now(),
            )
    except IntegrityError:
        return None  # already fired for this report and period


def event_send(event: AlertEvent) -> list:
    alert = event.cost_alert
    names = [*alert.slack_channels, *alert.teams_channels]
    channels = Channel.objects.filter(organization=alert.organization, enabled=True, name__in=names)
    return delivery.deliver(
        alert.organization,
        event_key=f"cost_alert_event:{event.token}",
        subject=f"Cost alert: {alert.title}",
        text=event.description,
        payload={
            "type": "cost_alert_event",
            "token": event.token,
            "alert_token": alert.token,
            "report_token": event.report_token,
            **event.metadata,
        },
        emails=alert.email_recipients,
        channels=list(channels),
    )
