"""Pages of the alerts app."""

from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.inbox, name="inbox"),
    path("alerts/anomalies/<str:token>/", views.anomaly_detail, name="anomaly"),
    path("alerts/anomalies/<str:token>/action/", views.anomaly_action, name="anomaly-action"),
    path("alerts/settings/", views.alert_settings, name="settings"),
    path("alerts/settings/channels/", views.channel_create, name="channel-create"),
    path("alerts/settings/channels/<int:pk>/", views.channel_action, name="channel-action"),
    path("alerts/settings/notifications/", views.notification_create, name="notification-create"),
    path(
        "alerts/settings/notifications/<str:token>/delete/",
        views.notification_delete,
        name="notification-delete",
    ),
    path("alerts/settings/watches/", views.watch_create, name="watch-create"),
    path("alerts/settings/watches/<str:token>/", views.watch_action, name="watch-action"),
    path("alerts/settings/digest/", views.digest_preference, name="digest-preference"),
    path("alerts/deliveries/", views.delivery_log, name="deliveries"),
    path("alerts/deliveries/<str:token>/replay/", views.delivery_replay, name="delivery-replay"),
]
