"""Vantage's v2 alerting surface: anomaly alerts, anomaly notifications, cost alerts and events.

Shapes follow ``@vantage-sh/vantage-client``'s types field for field; errors are
``{"errors": [...]}`` naming the field; lists use Vantage's ``links`` paging. Costline adds one
optional field: ``expected`` on an anomaly alert's update (true marks it expected and tunes its
series, docs/alerts.md). Another organization's objects are 404s.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError
from core.params import date_param, utc_timestamp
from core.vantage import vantage_errors
from organizations.tenancy import VantageMixin
from reports.selectors import cost_reports_visible

from .. import anomalies, selectors, services
from ..models import AnomalyStatus, Interval, UnitType
from .fields import StrictBooleanField, email_list

PAGING = [
    OpenApiParameter("page", int, description="The page of results to return."),
    OpenApiParameter("limit", int, description="The amount of results (max 1000)."),
]


def money_text(value) -> str:
    """An exact Decimal as Vantage writes amounts: "100.0", "12.3456"."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def user_token(user_id) -> str:
    return f"usr_{django_settings.COSTLINE_ENVIRONMENT}_{user_id}"


def user_ids(tokens: list[str]) -> list[int]:
    prefix = f"usr_{django_settings.COSTLINE_ENVIRONMENT}_"
    ids = []
    for token in tokens:
        number = token[len(prefix) :] if token.startswith(prefix) else ""
        if not number.isdigit():
            raise NotFoundError(f"User {token} not found.", field="user_tokens")
        ids.append(int(number))
    return ids


def day_param(query, name: str):
    """A day (``2026-09-01``) or an ISO 8601 date-time, of which the day counts."""
    raw = query.get(name) or ""
    if len(raw) > 10 and raw[10] == "T":
        return date_param({name: raw[:10]}, name)
    return date_param(query, name)


# --------------------------------------------------------------------------- serializers


class AnomalyAlertSerializer(serializers.Serializer):
    """Vantage's AnomalyAlert."""

    token = serializers.CharField()
    created_at = serializers.CharField()
    alerted_at = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    service = serializers.CharField()
    provider = serializers.CharField()
    amount = serializers.CharField()
    previous_amount = serializers.CharField()
    seven_day_average = serializers.CharField()
    status = serializers.CharField()
    feedback = serializers.CharField(allow_null=True)
    resources = serializers.ListField(child=serializers.CharField())
    resource_tokens = serializers.ListField(child=serializers.CharField())
    cost_report_token = serializers.CharField(allow_null=True)

    def to_representation(self, anomaly) -> dict:
        return {
            "token": anomaly.token,
            "created_at": utc_timestamp(anomaly.created_at),
            "alerted_at": utc_timestamp(anomaly.alerted_at) if anomaly.alerted_at else None,
            "category": anomaly.category,
            "service": anomaly.service,
            "provider": anomaly.provider,
            "amount": money_text(anomaly.amount),
            "previous_amount": money_text(anomaly.previous_amount),
            "seven_day_average": money_text(anomaly.seven_day_average),
            "status": anomaly.status,
            "feedback": anomaly.feedback,
            "resources": [],
            "resource_tokens": [],
            "cost_report_token": anomaly.cost_report.token
            if anomaly.cost_report_id
            else (anomaly.segment.report_token if anomaly.segment_id else None),
        }


class AnomalyAlertUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AnomalyStatus.values)
    feedback = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5000
    )
    expected = StrictBooleanField(
        required=False, help_text="Costline: mark it expected (tunes its series' threshold)."
    )


class AnomalyNotificationSerializer(serializers.Serializer):
    """Vantage's AnomalyNotification."""

    token = serializers.CharField()
    cost_report_token = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    threshold = serializers.IntegerField()
    user_tokens = serializers.ListField(child=serializers.CharField())
    recipient_channels = serializers.ListField(child=serializers.CharField())

    def to_representation(self, notification) -> dict:
        return {
            "token": notification.token,
            "cost_report_token": notification.cost_report.token,
            "created_at": utc_timestamp(notification.created_at),
            "updated_at": utc_timestamp(notification.updated_at),
            "threshold": notification.threshold,
            "user_tokens": [user_token(user.pk) for user in notification.users.all()],
            "recipient_channels": list(notification.recipient_channels),
        }


class AnomalyNotificationUpdateSerializer(serializers.Serializer):
    threshold = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    user_tokens = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )
    recipient_channels = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )


class AnomalyNotificationCreateSerializer(AnomalyNotificationUpdateSerializer):
    cost_report_token = serializers.CharField()


class CostAlertSerializer(serializers.Serializer):
    """Vantage's CostAlert."""

    token = serializers.CharField()
    title = serializers.CharField()
    email_recipients = serializers.ListField(child=serializers.CharField())
    slack_channels = serializers.ListField(child=serializers.CharField())
    teams_channels = serializers.ListField(child=serializers.CharField())
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    workspace_token = serializers.CharField()
    interval = serializers.CharField()
    threshold = serializers.FloatField()
    unit_type = serializers.CharField()
    minimum_threshold = serializers.FloatField(allow_null=True)
    report_tokens = serializers.ListField(child=serializers.CharField())

    def to_representation(self, alert) -> dict:
        return {
            "token": alert.token,
            "title": alert.title,
            "email_recipients": list(alert.email_recipients),
            "slack_channels": list(alert.slack_channels),
            "teams_channels": list(alert.teams_channels),
            "created_at": utc_timestamp(alert.created_at),
            "updated_at": utc_timestamp(alert.updated_at),
            "workspace_token": alert.workspace.token,
            "interval": alert.interval,
            "threshold": float(alert.threshold),
            "unit_type": alert.unit_type,
            "minimum_threshold": float(alert.minimum_threshold)
            if alert.minimum_threshold is not None
            else None,
            "report_tokens": sorted(report.token for report in alert.reports.all()),
        }


class CostAlertUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255, required=False)
    interval = serializers.ChoiceField(choices=Interval.values, required=False)
    threshold = serializers.FloatField(required=False, min_value=0)
    unit_type = serializers.ChoiceField(choices=UnitType.values, required=False)
    minimum_threshold = serializers.FloatField(required=False, allow_null=True, min_value=0)
    report_tokens = serializers.ListField(
        child=serializers.CharField(), required=False, min_length=1, max_length=100
    )
    email_recipients = email_list(required=False, max_length=100)
    slack_channels = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )
    teams_channels = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )


class CostAlertCreateSerializer(CostAlertUpdateSerializer):
    title = serializers.CharField(max_length=255)
    interval = serializers.ChoiceField(choices=Interval.values)
    threshold = serializers.FloatField(min_value=0)
    unit_type = serializers.ChoiceField(choices=UnitType.values)
    workspace_token = serializers.CharField(required=False)
    report_tokens = serializers.ListField(
        child=serializers.CharField(), min_length=1, max_length=100
    )


class CostAlertEventSerializer(serializers.Serializer):
    """Vantage's CostAlertEvent."""

    token = serializers.CharField()
    created_at = serializers.CharField()
    triggered_at = serializers.CharField()
    description = serializers.CharField()
    alert_type = serializers.CharField()
    metadata = serializers.DictField()
    report_token = serializers.CharField()
    alert_token = serializers.CharField()

    def to_representation(self, event) -> dict:
        return {
            "token": event.token,
            "created_at": utc_timestamp(event.created_at),
            "triggered_at": utc_timestamp(event.triggered_at),
            "description": event.description,
            "alert_type": event.alert_type,
            "metadata": event.metadata,
            "report_token": event.report_token,
            "alert_token": event.cost_alert.token,
        }


# --------------------------------------------------------------------------- base view


# Look-ups every view of this surface shares, inside the request's organization and reachable
# workspaces. (A comment, not a docstring: the schema would show it on every operation.)
class VantageAlertsView(VantageMixin, APIView):
    def organization_and_workspaces(self):
        return self.get_organization(), self.get_workspaces()

    def cost_report(self, token: str, field: str = "cost_report_token"):
        return self.by_token(
            cost_reports_visible(*self.organization_and_workspaces()), token, "Cost report", field
        )

    def alert(self, token):
        return self.by_token(
            selectors.cost_alerts_visible(*self.organization_and_workspaces()),
            token,
            "Cost alert",
        )

    def paged(self, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --------------------------------------------------------------------------- anomaly alerts


class AnomalyAlertListView(VantageAlertsView):
    results_key = "anomaly_alerts"

    @extend_schema(
        operation_id="getAnomalyAlerts",
        tags=["AnomalyAlerts"],
        parameters=[
            *PAGING,
            OpenApiParameter(
                "start_date", OpenApiTypes.DATE, description="Anomalies on or after this day."
            ),
            OpenApiParameter(
                "end_date", OpenApiTypes.DATE, description="Anomalies on or before this day."
            ),
            OpenApiParameter("provider", str, description="Only this provider's."),
            OpenApiParameter("service", str, description="Only this service's."),
            OpenApiParameter("cost_category", str, description="Only this cost category's."),
            OpenApiParameter("cost_report_token", str, description="Only this report's."),
        ],
        responses={200: AnomalyAlertSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        query = request.query_params
        found = selectors.anomalies_visible(*self.organization_and_workspaces())
        start = day_param(query, "start_date")
        end = day_param(query, "end_date")
        if start and end and start > end:  # a backwards window holds no day
            found = found.none()
        if start:
            found = found.filter(day__gte=start)
        if end:
            found = found.filter(day__lte=end)
        if query.get("provider"):
            found = found.filter(provider=query["provider"])
        if query.get("service"):
            found = found.filter(service=query["service"])
        if query.get("cost_category"):
            found = found.filter(category=query["cost_category"])
        if query.get("cost_report_token"):
            found = found.filter(cost_report=self.cost_report(query["cost_report_token"]))
        return self.paged(found.order_by("-day", "-id"), AnomalyAlertSerializer)


class AnomalyAlertDetailView(VantageAlertsView):
    def anomaly(self, token):
        return self.by_token(
            selectors.anomalies_visible(*self.organization_and_workspaces()),
            token,
            "Anomaly alert",
        )

    @extend_schema(
        operation_id="getAnomalyAlert",
        tags=["AnomalyAlerts"],
        responses={200: AnomalyAlertSerializer, **vantage_errors(404)},
    )
    def get(self, request, anomaly_alert_token):
        return Response(AnomalyAlertSerializer(self.anomaly(anomaly_alert_token)).data)

    @extend_schema(
        operation_id="updateAnomalyAlert",
        tags=["AnomalyAlerts"],
        request=AnomalyAlertUpdateSerializer,
        responses={200: AnomalyAlertSerializer, **vantage_errors(400, 403, 404)},
    )
    def put(self, request, anomaly_alert_token):
        anomaly = self.anomaly(anomaly_alert_token)
        body = AnomalyAlertUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        anomalies.anomaly_update(
            anomaly,
            status=data["status"],
            feedback=data.get("feedback"),
            expected=data.get("expected"),
        )
        return Response(AnomalyAlertSerializer(self.anomaly(anomaly_alert_token)).data)


# --------------------------------------------------------------------------- notifications


class AnomalyNotificationListView(VantageAlertsView):
    results_key = "anomaly_notifications"

    @extend_schema(
        operation_id="getAnomalyNotifications",
        tags=["AnomalyNotifications"],
        parameters=PAGING,
        responses={200: AnomalyNotificationSerializer(many=True), **vantage_errors(400)},
    )
    def get(self, request):
        found = selectors.anomaly_notifications_visible(*self.organization_and_workspaces())
        return self.paged(found.order_by("created_at", "id"), AnomalyNotificationSerializer)

    @extend_schema(
        operation_id="createAnomalyNotification",
        tags=["AnomalyNotifications"],
        request=AnomalyNotificationCreateSerializer,
        responses={201: AnomalyNotificationSerializer, **vantage_errors(400, 403, 404)},
    )
    def post(self, request):
        body = AnomalyNotificationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        notification = services.anomaly_notification_create(
            self.get_organization(),
            cost_report=self.cost_report(data["cost_report_token"]),
            threshold=data.get("threshold", 0),
            user_ids=user_ids(data.get("user_tokens", [])),
            recipient_channels=data.get("recipient_channels", []),
        )
        return Response(
            AnomalyNotificationSerializer(notification).data, status=status.HTTP_201_CREATED
        )


class AnomalyNotificationDetailView(VantageAlertsView):
    def notification(self, token):
        return self.by_token(
            selectors.anomaly_notifications_visible(*self.organization_and_workspaces()),
            token,
            "Anomaly notification",
        )

    @extend_schema(
        operation_id="getAnomalyNotification",
        tags=["AnomalyNotifications"],
        responses={200: AnomalyNotificationSerializer, **vantage_errors(404)},
    )
    def get(self, request, anomaly_notification_token):
        notification = self.notification(anomaly_notification_token)
        return Response(AnomalyNotificationSerializer(notification).data)

    @extend_schema(
        operation_id="updateAnomalyNotification",
        tags=["AnomalyNotifications"],
        request=AnomalyNotificationUpdateSerializer,
        responses={200: AnomalyNotificationSerializer, **vantage_errors(400, 403, 404)},
    )
    def put(self, request, anomaly_notification_token):
        notification = self.notification(anomaly_notification_token)
        body = AnomalyNotificationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.anomaly_notification_update(
            notification,
            threshold=data.get("threshold"),
            user_ids=user_ids(data["user_tokens"]) if "user_tokens" in data else None,
            recipient_channels=data.get("recipient_channels"),
        )
        notification = self.notification(anomaly_notification_token)
        return Response(AnomalyNotificationSerializer(notification).data)

    @extend_schema(
        operation_id="deleteAnomalyNotification",
        tags=["AnomalyNotifications"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, anomaly_notification_token):
        services.anomaly_notification_delete(self.notification(anomaly_notification_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- cost alerts


def cost_alert_changes(view: VantageAlertsView, data: dict) -> dict:
    changes = {
        name: data[name]
        for name in (
            "title",
            "interval",
            "threshold",
            "unit_type",
            "minimum_threshold",
            "email_recipients",
            "slack_channels",
            "teams_channels",
        )
        if name in data
    }
    if "report_tokens" in data:
        changes["reports"] = [
            view.cost_report(token, "report_tokens")
            for token in dict.fromkeys(data["report_tokens"])
        ]
    return changes


class CostAlertListView(VantageAlertsView):
    results_key = "cost_alerts"

    @extend_schema(
        operation_id="getCostAlerts",
        tags=["CostAlerts"],
        parameters=PAGING,
        responses={200: CostAlertSerializer(many=True), **vantage_errors(400)},
    )
    def get(self, request):
        found = selectors.cost_alerts_visible(*self.organization_and_workspaces())
        return self.paged(found.order_by("created_at", "id"), CostAlertSerializer)

    @extend_schema(
        operation_id="createCostAlert",
        tags=["CostAlerts"],
        request=CostAlertCreateSerializer,
        responses={201: CostAlertSerializer, **vantage_errors(400, 403, 404)},
    )
    def post(self, request):
        body = CostAlertCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        alert = services.cost_alert_create(
            self.get_organization(),
            workspace=self.workspace(data.get("workspace_token")),
            **cost_alert_changes(self, data),
        )
        alert = selectors.cost_alerts_visible(*self.organization_and_workspaces()).get(pk=alert.pk)
        return Response(CostAlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class CostAlertDetailView(VantageAlertsView):
    @extend_schema(
        operation_id="getCostAlert",
        tags=["CostAlerts"],
        responses={200: CostAlertSerializer, **vantage_errors(404)},
    )
    def get(self, request, cost_alert_token):
        return Response(CostAlertSerializer(self.alert(cost_alert_token)).data)

    @extend_schema(
        operation_id="updateCostAlert",
        tags=["CostAlerts"],
        request=CostAlertUpdateSerializer,
        responses={200: CostAlertSerializer, **vantage_errors(400, 403, 404)},
    )
    def put(self, request, cost_alert_token):
        alert = self.alert(cost_alert_token)
        body = CostAlertUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cost_alert_update(alert, **cost_alert_changes(self, body.validated_data))
        return Response(CostAlertSerializer(self.alert(cost_alert_token)).data)

    @extend_schema(
        operation_id="deleteCostAlert",
        tags=["CostAlerts"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, cost_alert_token):
        services.cost_alert_delete(self.alert(cost_alert_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CostAlertEventListView(VantageAlertsView):
    results_key = "cost_alert_events"

    @extend_schema(
        operation_id="getCostAlertEvents",
        tags=["CostAlerts"],
        parameters=[
            *PAGING,
            OpenApiParameter("report_token", str, description="Only this report's events."),
        ],
        responses={200: CostAlertEventSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request, cost_alert_token):
        events = selectors.cost_alert_events(self.alert(cost_alert_token))
        if request.query_params.get("report_token"):
            events = events.filter(report_token=request.query_params["report_token"])
        return self.paged(events.order_by("-triggered_at", "-id"), CostAlertEventSerializer)


class CostAlertEventDetailView(VantageAlertsView):
    @extend_schema(
        operation_id="getCostAlertEvent",
        tags=["CostAlerts"],
        responses={200: CostAlertEventSerializer, **vantage_errors(404)},
    )
    def get(self, request, cost_alert_token, event_token):
        events = selectors.cost_alert_events(self.alert(cost_alert_token))
        return Response(
            CostAlertEventSerializer(self.by_token(events, event_token, "Cost alert event")).data
        )
