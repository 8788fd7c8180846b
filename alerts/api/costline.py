"""Costline's own alerting API (``/api/v1``): alerts on a segment's cost, a unit cost or a
billable metric's usage, their events, and the channels notices go to.

DRF's error shape (``{"field": ["message"]}``, ``{"detail": ...}``) like the rest of ``/api/v1``;
another organization's objects are 404s; read-only tokens get 403 on writes.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError, ServiceError
from core.openapi import errors
from core.pagination import PageNumberPagination
from core.params import utc_timestamp
from core.routes import optional_slash
from metrics.models import BillableMetric
from metrics.unit_costs import segment_by_reference
from organizations.tenancy import OrganizationScopedMixin

from .. import delivery, selectors, services, watches
from ..models import ChannelKind, DeliveryStatus, WatchCondition, WatchSubject
from .fields import StrictBooleanField, ThresholdField, email_list


class ChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ChannelKind.values)
    target = serializers.CharField(
        max_length=1000,
        help_text="What the kind needs: an email address for email, an http(s):// URL for "
        "webhook and slack.",
    )
    enabled = StrictBooleanField(default=True)
    signing_secret = serializers.CharField(read_only=True)
    created_at = serializers.SerializerMethodField()

    def get_created_at(self, channel) -> str:
        return utc_timestamp(channel.created_at)


class WatchSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    title = serializers.CharField(max_length=255)
    subject = serializers.ChoiceField(choices=WatchSubject.values)
    segment = serializers.CharField(
        required=False, allow_null=True, help_text="Segment token (fltr_sgmt_…) or id."
    )
    metric = serializers.CharField(required=False, allow_null=True, help_text="Metric id.")
    condition = serializers.ChoiceField(choices=WatchCondition.values)
    threshold = ThresholdField(required=False, allow_null=True)
    email_recipients = email_list(required=False, max_length=100)
    channels = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100, help_text="Channel names."
    )
    enabled = StrictBooleanField(default=True)
    created_at = serializers.SerializerMethodField()
    updated_at = serializers.SerializerMethodField()

    def get_created_at(self, watch) -> str:
        return utc_timestamp(watch.created_at)

    def get_updated_at(self, watch) -> str:
        return utc_timestamp(watch.updated_at)

    def to_representation(self, watch) -> dict:
        return {
            "token": watch.token,
            "title": watch.title,
            "subject": watch.subject,
            "segment": watch.segment.token if watch.segment_id else None,
            "metric": watch.metric_id,
            "condition": watch.condition,
            "threshold": None
            if watch.threshold is None
            else format(watch.threshold.normalize(), "f"),
            "email_recipients": list(watch.email_recipients),
            "channels": [channel.name for channel in watch.channels.all()],
            "enabled": watch.enabled,
            "created_at": utc_timestamp(watch.created_at),
            "updated_at": utc_timestamp(watch.updated_at),
        }


class AlertEventSerializer(serializers.Serializer):
    token = serializers.CharField()
    day = serializers.CharField()
    alert_type = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.DictField()
    triggered_at = serializers.CharField()

    def to_representation(self, event) -> dict:
        return {
            "token": event.token,
            "day": event.period_start.isoformat(),
            "alert_type": event.alert_type,
            "description": event.description,
            "metadata": event.metadata,
            "triggered_at": utc_timestamp(event.triggered_at),
        }


class AlertDeliverySerializer(serializers.Serializer):
    token = serializers.CharField()
    event_key = serializers.CharField()
    channel = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    subject = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = serializers.CharField(allow_null=True)
    next_attempt_at = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    attempt_log = serializers.ListField(child=serializers.DictField())

    def to_representation(self, sent) -> dict:
        def stamp(value):
            return utc_timestamp(value) if value else None

        return {
            "token": sent.token,
            "event_key": sent.event_key,
            "channel": sent.channel.name if sent.channel_id else None,
            "email": sent.email or None,
            "subject": sent.subject,
            "status": sent.status,
            "attempts": sent.attempts,
            "last_error": sent.last_error,
            "sent_at": stamp(sent.sent_at),
            "next_attempt_at": stamp(sent.next_attempt_at),
            "created_at": stamp(sent.created_at),
            "attempt_log": [
                {
                    "number": attempt.number,
                    "succeeded": attempt.succeeded,
                    "response_status": attempt.response_status,
                    "error": attempt.error,
                    "started_at": stamp(attempt.started_at),
                    "duration_ms": attempt.duration_ms,
                }
                for attempt in sent.attempt_log.all()
            ],
        }


class CostlineAlertsView(OrganizationScopedMixin, APIView):
    pagination_class = PageNumberPagination

    def paged(self, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)

    def watches(self):
        return selectors.watches_visible(self.get_organization(), self.get_workspaces())

    def watch(self, token):
        found = self.watches().filter(token=token).first()
        if found is None:
            raise NotFoundError("Alert not found.")
        return found

    def channel(self, pk):
        found = selectors.channels_of(self.get_organization()).filter(pk=pk).first()
        if found is None:
            raise NotFoundError("Channel not found.")
        return found

    def delivery(self, token):
        found = selectors.deliveries_of(self.get_organization()).filter(token=token).first()
        if found is None:
            raise NotFoundError("Delivery not found.")
        return found

    def watch_fields(self, data: dict) -> dict:
        organization = self.get_organization()
        fields = {
            name: data[name]
            for name in (
                "title",
                "subject",
                "condition",
                "threshold",
                "email_recipients",
                "enabled",
            )
            if name in data
        }
        if data.get("segment"):
            fields["segment"] = segment_by_reference(
                organization, self.get_workspaces(), data["segment"]
            )
        elif "segment" in data:
            fields["segment"] = None
        if data.get("metric"):
            metric = BillableMetric.objects.filter(
                organization=organization, pk=data["metric"]
            ).first()
            if metric is None:
                raise NotFoundError("Billable metric not found.", field="metric")
            fields["metric"] = metric
        elif "metric" in data:
            fields["metric"] = None
        if "channels" in data:
            fields["channels"] = services.channels_by_name(
                organization, data["channels"], "channels"
            )
        return fields


class WatchListView(CostlineAlertsView):
    @extend_schema(
        tags=["Costline alerts"],
        operation_id="listCostlineAlerts",
        responses={200: WatchSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        return self.paged(self.watches(), WatchSerializer)

    @extend_schema(
        tags=["Costline alerts"],
        operation_id="createCostlineAlert",
        request=WatchSerializer,
        responses={201: WatchSerializer, **errors(400, 403, 404)},
    )
    def post(self, request):
        body = WatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        watch = watches.watch_create(
            self.get_organization(), **self.watch_fields(body.validated_data)
        )
        return Response(
            WatchSerializer(self.watch(watch.token)).data, status=status.HTTP_201_CREATED
        )


class WatchDetailView(CostlineAlertsView):
    @extend_schema(
        tags=["Costline alerts"],
        operation_id="getCostlineAlert",
        responses={200: WatchSerializer, **errors(404)},
    )
    def get(self, request, token):
        return Response(WatchSerializer(self.watch(token)).data)

    @extend_schema(
        tags=["Costline alerts"],
        operation_id="updateCostlineAlert",
        request=WatchSerializer,
        responses={200: WatchSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, token):
        watch = self.watch(token)
        body = WatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        watches.watch_update(watch, **self.watch_fields(body.validated_data))
        return Response(WatchSerializer(self.watch(token)).data)

    @extend_schema(
        tags=["Costline alerts"],
        operation_id="deleteCostlineAlert",
        responses={204: None, **errors(403, 404)},
    )
    def delete(self, request, token):
        watches.watch_delete(self.watch(token))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchEventListView(CostlineAlertsView):
    @extend_schema(
        tags=["Costline alerts"],
        operation_id="listCostlineAlertEvents",
        responses={200: AlertEventSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request, token):
        return self.paged(selectors.watch_events(self.watch(token)), AlertEventSerializer)


class WatchCheckView(CostlineAlertsView):
    @extend_schema(
        tags=["Costline alerts"],
        operation_id="checkCostlineAlert",
        request=None,
        responses={200: AlertEventSerializer, 204: None, **errors(403, 404)},
        description="Judge the alert now on its latest complete day: the event if it fired "
        "(once a day), else 204.",
    )
    def post(self, request, token):
        event = watches.watch_evaluate(self.watch(token))
        if event is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AlertEventSerializer(event).data)


class ChannelListView(CostlineAlertsView):
    @extend_schema(
        tags=["Alert channels"],
        operation_id="listAlertChannels",
        responses={200: ChannelSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        return self.paged(selectors.channels_of(self.get_organization()), ChannelSerializer)

    @extend_schema(
        tags=["Alert channels"],
        operation_id="createAlertChannel",
        request=ChannelSerializer,
        responses={201: ChannelSerializer, **errors(400, 403)},
    )
    def post(self, request):
        body = ChannelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        channel = services.channel_create(self.get_organization(), **body.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailView(CostlineAlertsView):
    @extend_schema(
        tags=["Alert channels"],
        operation_id="getAlertChannel",
        responses={200: ChannelSerializer, **errors(404)},
    )
    def get(self, request, pk):
        return Response(ChannelSerializer(self.channel(pk)).data)

    @extend_schema(
        tags=["Alert channels"],
        operation_id="updateAlertChannel",
        request=ChannelSerializer,
        responses={200: ChannelSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, pk):
        channel = self.channel(pk)
        body = ChannelSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        channel = services.channel_update(channel, **body.validated_data)
        return Response(ChannelSerializer(channel).data)

    @extend_schema(
        tags=["Alert channels"],
        operation_id="deleteAlertChannel",
        responses={204: None, **errors(403, 404)},
    )
    def delete(self, request, pk):
        services.channel_delete(self.channel(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(CostlineAlertsView):
    @extend_schema(
        tags=["Alert deliveries"],
        operation_id="listAlertDeliveries",
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only these.")
        ],
        responses={200: AlertDeliverySerializer(many=True), **errors(400)},
    )
    def get(self, request):
        found = selectors.deliveries_of(self.get_organization()).order_by("-created_at", "-id")
        status_filter = request.query_params.get("status")
        if status_filter:
            if status_filter not in DeliveryStatus.values:
                raise ServiceError(f"One of {', '.join(DeliveryStatus.values)}.", field="status")
            found = found.filter(status=status_filter)
        return self.paged(found, AlertDeliverySerializer)


class DeliveryDetailView(CostlineAlertsView):
    @extend_schema(
        tags=["Alert deliveries"],
        operation_id="getAlertDelivery",
        responses={200: AlertDeliverySerializer, **errors(404)},
    )
    def get(self, request, token):
        return Response(AlertDeliverySerializer(self.delivery(token)).data)


class DeliveryReplayView(CostlineAlertsView):
    @extend_schema(
        tags=["Alert deliveries"],
        operation_id="replayAlertDelivery",
        request=None,
        responses={202: AlertDeliverySerializer, **errors(403, 404, 409)},
        description="Send a sent or failed delivery again (a new round of tries); 409 while "
        "it is still queued or retrying.",
    )
    def post(self, request, token):
        delivery.delivery_replay(self.delivery(token))
        return Response(
            AlertDeliverySerializer(self.delivery(token)).data, status=status.HTTP_202_ACCEPTED
        )


def route(pattern: str, view, name: str) -> list:
    return optional_slash(rf"^api/v1/{pattern}", view, name)


TOKEN = r"(?P<token>cstl_alrt_[0-9a-f]+)"
DELIVERY = r"(?P<token>dlvr_[0-9a-f]+)"
urlpatterns = [
    *route("alerts", WatchListView, "costline-alerts"),
    *route(f"alerts/{TOKEN}", WatchDetailView, "costline-alert"),
    *route(f"alerts/{TOKEN}/events", WatchEventListView, "costline-alert-events"),
    *route(f"alerts/{TOKEN}/check", WatchCheckView, "costline-alert-check"),
    *route("alert-channels", ChannelListView, "alert-channels"),
    *route(r"alert-channels/(?P<pk>[0-9]+)", ChannelDetailView, "alert-channel"),
    *route("alert-deliveries", DeliveryListView, "alert-deliveries"),
    *route(rf"alert-deliveries/{DELIVERY}", DeliveryDetailView, "alert-delivery"),
    *route(rf"alert-deliveries/{DELIVERY}/replay", DeliveryReplayView, "alert-delivery-replay"),
]
