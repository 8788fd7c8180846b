"""Costline alerts (``Watch``): what Vantage cannot alert on.

- ``segment_cost``: a segment's daily cost (its stored metrics, report settings applied);
- ``unit_cost``: a segment's daily cost ÷ a billable metric's daily usage
  (``metrics.unit_costs.unit_cost_series``), e.g. cost per 1,000 requests;
- ``metric_usage``: a billable metric's daily usage, all customers.

Each is judged on its latest complete day by one condition: ``above`` (the day's value exceeds
``threshold``), ``change_percent`` (the day moved more than ``threshold`` % from its baseline, the
median of the same weekday over the previous 8 weeks) or ``anomaly`` (the robust detector of
``alerts.detection``; ``threshold`` is then the minimum absolute impact). A watch fires at most
once a day (``AlertEvent``'s unique constraint).
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ServiceError
from metrics.selectors import usage_series
from metrics.services import usage_refresh
from metrics.unit_costs import unit_cost_series, unit_label
from organizations.models import Organization
from segments.models import Granularity
from segments.selectors import segment_cost_series

from . import delivery
from .anomalies import default_min_impact, last_data_day
from .detection import DEFAULT_WEEKS, detect
from .models import AlertEvent, Channel, Watch, WatchCondition, WatchSubject

logger = logging.getLogger("costline.alerts")
HISTORY_DAYS = 7 * DEFAULT_WEEKS
WATCH_FIELDS = {
    "title",
    "subject",
    "segment",
    "metric",
    "condition",
    "threshold",
    "email_recipients",
    "channels",
    "enabled",
}


# --------------------------------------------------------------------------- writes


def watch_apply(watch: Watch, changes: dict) -> list[Channel] | None:
    unknown = set(changes) - WATCH_FIELDS
    if unknown:
        raise TypeError(f"unknown watch fields: {sorted(unknown)}")
    for name in ("title", "subject", "segment", "metric", "condition", "enabled"):
        if name in changes:
            setattr(watch, name, changes[name])
    if "threshold" in changes:
        value = changes["threshold"]
        try:
            watch.threshold = None if value is None else Decimal(str(value))
        except ArithmeticError:
            raise ServiceError("A number.", field="threshold") from None
        if watch.threshold is not None and (not watch.threshold.is_finite() or watch.threshold < 0):
            raise ServiceError("A number of 0 or more.", field="threshold")
    if "email_recipients" in changes:
        try:
            watch.email_recipients = delivery.normalized_emails(changes["email_recipients"])
        except ServiceError as error:
            raise ServiceError(error.message, field="email_recipients") from None
    watch.title = (watch.title or "").strip()
    if not watch.title or len(watch.title) > 255:
        raise ServiceError("A title of 1 to 255 characters.", field="title")
    if watch.subject not in WatchSubject.values:
        raise ServiceError(f"One of {', '.join(WatchSubject.values)}.", field="subject")
    if watch.condition not in WatchCondition.values:
        raise ServiceError(f"One of {', '.join(WatchCondition.values)}.", field="condition")
    needs_segment = watch.subject in (WatchSubject.SEGMENT_COST, WatchSubject.UNIT_COST)
    needs_metric = watch.subject in (WatchSubject.UNIT_COST, WatchSubject.METRIC_USAGE)
    if needs_segment and watch.segment is None:
        raise ServiceError(f"Required for {watch.subject}.", field="segment", code="required")
    if needs_metric and watch.metric is None:
        raise ServiceError(f"Required for {watch.subject}.", field="metric", code="required")
    if not needs_segment:
        watch.segment = None
    if not needs_metric:
        watch.metric = None
    for related, field in ((watch.segment, "segment"), (watch.metric, "metric")):
        if related is not None and related.organization_id != watch.organization_id:
            raise ServiceError(f"{field.title()} not found.", field=field, code="not_found")
    if watch.condition != WatchCondition.ANOMALY and watch.threshold is None:
        raise ServiceError(
            f"Required for the {watch.condition} condition.", field="threshold", code="required"
        )
    channels = changes.get("channels")
    if channels is not None and any(c.organization_id != watch.organization_id for c in channels):
        raise ServiceError("Channel not found.", field="channels", code="not_found")
    return channels


def watch_create(organization: Organization, **fields) -> Watch:
    watch = Watch(organization=organization)
    fields.setdefault("title", "")
    fields.setdefault("subject", "")
    fields.setdefault("condition", "")
    channels = watch_apply(watch, fields)
    with transaction.atomic():
        watch.save()
        watch.channels.set(channels or [])
    return watch


def watch_update(watch: Watch, **changes) -> Watch:
    channels = watch_apply(watch, changes)
    with transaction.atomic():
        watch.save()
        if channels is not None:
            watch.channels.set(channels)
    return watch


def watch_delete(watch: Watch) -> None:
    watch.delete()


# --------------------------------------------------------------------------- evaluation


def judged_day(watch: Watch, organization: Organization) -> datetime.date | None:
    """The latest complete day the watch's data can answer for."""
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    if watch.subject == WatchSubject.METRIC_USAGE:
        return yesterday
    last = last_data_day(organization)
    if last is None:
        return None
    return min(last, yesterday) if watch.subject == WatchSubject.UNIT_COST else last


def daily_values(watch: Watch, start, end) -> np.ndarray:
    """The watched value per day from ``start`` to ``end`` (NaN: undefined, e.g. no usage)."""
    days = (end - start).days + 1
    values = np.full(days, np.nan)
    if watch.subject == WatchSubject.SEGMENT_COST:
        costs = segment_cost_series(watch.segment, Granularity.DAY, start, end)
        first = min(costs) if costs else end + datetime.timedelta(days=1)
        for offset in range((first - start).days, days):
            day = start + datetime.timedelta(days=offset)
            values[offset] = float(costs.get(day, 0))
        return values
    usage_refresh(watch.metric, start, end)
    if watch.subject == WatchSubject.METRIC_USAGE:
        points = usage_series(watch.metric, watch.organization, "day", start, end)
        pairs = [(p.start, p.value) for p in points]
    else:
        points = unit_cost_series(watch.segment, watch.metric, "day", start, end)
        pairs = [(p.start, p.unit_cost) for p in points]
    for day, value in pairs:
        if value is not None and start <= day <= end:
            values[(day - start).days] = float(value)
    return values


def verdict(watch: Watch, values: np.ndarray) -> tuple[bool, dict]:
    """Whether the last day fires the watch, and the figures that say why."""
    impact = watch.threshold
    if impact is None:
        impact = default_min_impact() if watch.subject == WatchSubject.SEGMENT_COST else 0
    found = detect(values, min_impact=float(impact) if watch.condition == "anomaly" else 0.0)
    value = values[-1]
    baseline = found.baseline[-1, 0]
    figures = {
        "value": None if np.isnan(value) else round(float(value), 6),
        "baseline": None if np.isnan(baseline) else round(float(baseline), 6),
        "score": round(float(found.score[-1, 0]), 3),
    }
    if np.isnan(value):
        return False, figures
    if watch.condition == WatchCondition.ABOVE:
        return value > float(watch.threshold), figures
    if watch.condition == WatchCondition.CHANGE_PERCENT:
        if np.isnan(baseline) or baseline == 0:
            return False, figures
        change = (value - baseline) / abs(baseline) * 100
        figures["change_percent"] = round(float(change), 2)
        return abs(change) >= float(watch.threshold), figures
    return bool(found.onset[-1, 0]), figures


def subject_label(watch: Watch) -> str:
    if watch.subject == WatchSubject.SEGMENT_COST:
        return f"cost of segment {watch.segment.name}"
    if watch.subject == WatchSubject.UNIT_COST:
        return f"cost per {unit_label(watch.metric)} of segment {watch.segment.name}"
    return f"usage of {watch.metric.name} ({watch.metric.code})"


def watch_evaluate(watch: Watch, day: datetime.date | None = None) -> AlertEvent | None:
    """Judge one watch on ``day`` (default: its latest complete day); record and send a firing."""
    day = day or judged_day(watch, watch.organization)
    if day is None:
        return None
    start = day - datetime.timedelta(days=HISTORY_DAYS)
    fires, figures = verdict(watch, daily_values(watch, start, day))
    if not fires:
        return None
    description = f"The {subject_label(watch)} was {figures['value']} on {day:%Y-%m-%d}: "
    if watch.condition == WatchCondition.ABOVE:
        description += f"above {watch.threshold:,.4f}."
    elif watch.condition == WatchCondition.CHANGE_PERCENT:
        description += (
            f"moved {figures['change_percent']:+}% (limit {watch.threshold:,.2f}%) from its "
            f"same-weekday baseline {figures['baseline']}."
        )
    else:
        description += (
            f"an anomaly against its baseline {figures['baseline']} "
            f"(robust z-score {figures['score']:+.1f})."
        )
    try:
        with transaction.atomic():
            event = AlertEvent.objects.create(
                organization=watch.organization,
                watch=watch,
                period_start=day,
                alert_type=f"{watch.subject}_{watch.condition}",
                description=description,
                metadata={"day": day.isoformat(), **figures},
                triggered_at=timezone.now(),
            )
    except IntegrityError:
        return None  # already fired for that day
    delivery.deliver(
        watch.organization,
        event_key=f"watch_event:{event.token}",
        subject=f"Costline alert: {watch.title}",
        text=description,
        payload={
            "type": "costline_alert_event",
            "token": event.token,
            "alert": watch.token,
            **event.metadata,
        },
        emails=watch.email_recipients,
        channels=[channel for channel in watch.channels.all() if channel.enabled],
    )
    return event


def watches_evaluate(organization: Organization) -> list[AlertEvent]:
    watches = Watch.objects.filter(organization=organization, enabled=True).select_related(
        "segment", "metric"
    )
    fired = []
    for watch in watches:
        try:
            event = watch_evaluate(watch)
        except Exception:
            # One broken alert (say, its metric's events cannot be read) never stops the others.
            logger.exception("costline alert %s could not be judged", watch.token)
            continue
        if event is not None:
            fired.append(event)
    return fired
