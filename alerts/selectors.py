"""Reads of the alerts app, scoped to an organization and the workspaces a credential reaches."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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


def watch_events(watch: Watch) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(watch=watch)
