"""Reads of the alerts app, scoped to an organization and the workspaces a credential reaches."""

from __future__ import annotations

import datetime

import numpy as np
from django.db.models import Count, Q, QuerySet

from .anomalies import last_data_day, series_matrix, series_of
from .detection import DEFAULT_WEEKS, detect
from .models import (
    AlertEvent,
    Anomaly,
    AnomalyNotification,
    AnomalyStatus,
    Channel,
    CostAlert,
    Delivery,
    Watch,
)


def anomalies_visible(organization, workspaces) -> QuerySet[Anomaly]:
    """Anomalies of the reports and segments of the reachable workspaces."""
    return (
        Anomaly.objects.filter(organization=organization)
        .filter(Q(cost_report__workspace__in=workspaces) | Q(segment__workspace__in=workspaces))
        .select_related("cost_report", "segment")
    )


def anomalies_open(organization, workspaces) -> QuerySet[Anomaly]:
    return anomalies_visible(organization, workspaces).filter(status=AnomalyStatus.ACTIVE)


def anomaly_counts(organization, workspaces) -> dict[str, int]:
    rows = anomalies_visible(organization, workspaces).values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in AnomalyStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def anomaly_notifications_visible(organization, workspaces) -> QuerySet[AnomalyNotification]:
    return (
        AnomalyNotification.objects.filter(
            organization=organization, cost_report__workspace__in=workspaces
        )
        .select_related("cost_report")
        .prefetch_related("users")
    )


def cost_alerts_visible(organization, workspaces) -> QuerySet[CostAlert]:
    return (
        CostAlert.objects.filter(organization=organization, workspace__in=workspaces)
        .select_related("workspace")
        .prefetch_related("reports")
    )


def cost_alert_events(alert: CostAlert) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(cost_alert=alert).select_related("cost_alert")


def channels_of(organization) -> QuerySet[Channel]:
    return Channel.objects.filter(organization=organization)


def deliveries_of(organization) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(organization=organization)
        .select_related("channel")
        .prefetch_related("attempt_log")
    )


def watches_of(organization) -> QuerySet[Watch]:
    return (
        Watch.objects.filter(organization=organization)
        .select_related("segment", "metric")
        .prefetch_related("channels")
    )


def watches_visible(organization, workspaces) -> QuerySet[Watch]:
    """The alerts a credential reaches: a segment's only within the workspaces it reaches (a
    workspace-restricted token never sees another workspace's segment through its alert)."""
    return watches_of(organization).filter(
        Q(segment__isnull=True) | Q(segment__workspace__in=list(workspaces))
    )


def watch_events(watch: Watch) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(watch=watch)


def anomaly_history(anomaly: Anomaly, days_before: int = 35, days_after: int = 7) -> dict | None:
    """The anomaly's series around its day with the baseline it was judged against, as the
    chart include takes it ({labels, datasets, currency}); None if the series is gone."""
    first = anomaly.day - datetime.timedelta(days=days_before)
    # Never past the latest day of data: a day not imported yet is not a day of zero cost.
    last = min(
        anomaly.day + datetime.timedelta(days=days_after),
        last_data_day(anomaly.organization) or anomaly.day,
    )
    start = first - datetime.timedelta(days=7 * DEFAULT_WEEKS)
    found = series_of(anomaly, start, last)
    if found is None:
        return None
    matrix = series_matrix([found], start, last)
    judged = detect(matrix.to_numpy())
    shown = matrix.index >= first
    labels = [day.strftime("%d %b") for day in matrix.index[shown]]

    def points(values) -> list[float | None]:
        return [None if np.isnan(value) else round(float(value), 2) for value in values]

    return {
        "labels": labels,
        "datasets": [
            {"label": "Cost", "data": points(matrix.to_numpy()[shown, 0])},
            {
                "label": "Expected (same-weekday median)",
                "data": points(judged.baseline[shown, 0]),
                "borderDash": [6, 4],
                "color": "#98a2b3",
            },
        ],
        "currency": found.currency,
    }
