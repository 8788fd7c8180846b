"""API routes of the alerts app (full paths)."""

from django.urls import path

from . import costline, vantage

# Vantage: no trailing slash, as its clients call it.
urlpatterns = [
    path(
        "v2/anomaly_alerts", vantage.AnomalyAlertListView.as_view(), name="vantage-anomaly-alerts"
    ),
    path(
        "v2/anomaly_alerts/<str:anomaly_alert_token>",
        vantage.AnomalyAlertDetailView.as_view(),
        name="vantage-anomaly-alert",
    ),
    path(
        "v2/anomaly_notifications",
        vantage.AnomalyNotificationListView.as_view(),
        name="vantage-anomaly-notifications",
    ),
    path(
        "v2/anomaly_notifications/<str:anomaly_notification_token>",
        vantage.AnomalyNotificationDetailView.as_view(),
        name="vantage-anomaly-notification",
    ),
    path("v2/cost_alerts", vantage.CostAlertListView.as_view(), name="vantage-cost-alerts"),
    path(
        "v2/cost_alerts/<str:cost_alert_token>",
        vantage.CostAlertDetailView.as_view(),
        name="vantage-cost-alert",
    ),
    path(
        "v2/cost_alerts/<str:cost_alert_token>/events",
        vantage.CostAlertEventListView.as_view(),
        name="vantage-cost-alert-events",
    ),
    path(
        "v2/cost_alerts/<str:cost_alert_token>/events/<str:event_token>",
        vantage.CostAlertEventDetailView.as_view(),
        name="vantage-cost-alert-event",
    ),
    *costline.urlpatterns,
]
