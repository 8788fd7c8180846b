"""Archera's Segments (Beta) surface: ``/beta/v1/org/{org_id}/segments...``.

Every call names a ``provider``; filters travel as structured JSON with the provider condition
injected on the way in and left out on the way out. Errors are ``{"message", "detail", "code"}``.
"""

from datetime import date

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ARCHERA_ENVELOPE, ConflictError, NotFoundError, ServiceError
from core.params import date_param, utc_timestamp
from costs.models import Provider
from costs.selectors import filter_values
from organizations import selectors as org_selectors
from organizations.tenancy import OrganizationScopedMixin

from .. import selectors, services
from ..filter_tree import from_json, parse_structured, render_structured
from ..models import Segment, Status

ArcheraError = inline_serializer(
    "ArcheraError",
    {
        "message": serializers.CharField(),
        "detail": serializers.JSONField(),
        "code": serializers.CharField(),
    },
)
PROVIDER_PARAM = OpenApiParameter(
    "provider", str, required=True, enum=Provider.values, description="Cloud provider."
)


def archera_errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ArcheraError) for code in (400, 401, 403, *codes, 429)}


class MonthlyMetricSerializer(serializers.Serializer):
    month = serializers.CharField()
    billed_cost = serializers.FloatField()
    effective_cost = serializers.FloatField()
    list_cost = serializers.FloatField()
    on_demand_cost = serializers.FloatField()
    committed_cost = serializers.FloatField()
    savings = serializers.FloatField()
    coverage = serializers.FloatField()
    usage_quantity = serializers.FloatField()
    resource_count = serializers.IntegerField()


class DailyMetricSerializer(MonthlyMetricSerializer):
    month = None
    date = serializers.CharField()


class ArcheraSegmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    provider = serializers.ChoiceField(
        choices=Provider.choices,
        allow_null=True,
        help_text="null for a segment made on the Vantage surface that spans providers.",
    )
    is_system_generated = serializers.BooleanField()
    description = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    parent_id = serializers.UUIDField(
        allow_null=True,
        help_text="Extension: the parent segment's id (null for a top-level segment). "
        "Children are created on the Vantage surface or in the pages.",
    )
    filters = serializers.JSONField(read_only=True)
    metrics = inline_serializer(
        "ArcheraSegmentMetrics", {"monthly": MonthlyMetricSerializer(many=True)}
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, segment: Segment) -> dict:
        monthly = self.context.get("monthly", {})
        return {
            "id": str(segment.pk),
            "name": segment.name,
            "provider": segment.provider,
            "is_system_generated": segment.is_system_generated,
            "description": segment.description or None,
            "status": segment.status,
            "parent_id": str(segment.parent_id) if segment.parent_id else None,
            "filters": render_structured(from_json(segment.filter_tree))
            if segment.filter_tree
            else [],
            "metrics": {"monthly": monthly.get(segment.pk, [])},
            "created_at": utc_timestamp(segment.created_at),
            "updated_at": utc_timestamp(segment.updated_at),
        }


class SegmentCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    provider = serializers.ChoiceField(choices=Provider.choices)
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    filters = serializers.JSONField(required=False, default=list)


class SegmentUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    filters = serializers.JSONField(required=False)


class ArcheraView(OrganizationScopedMixin, APIView):
    error_envelope = ARCHERA_ENVELOPE
    organization_url_kwarg = "org_id"

    def provider(self) -> str:
        value = self.request.query_params.get("provider") or (
            self.request.data.get("provider") if isinstance(self.request.data, dict) else None
        )
        if not value:
            raise ServiceError(
                "provider is required (aws, azure or gcp).", field="provider", code="required"
            )
        if value not in Provider.values:
            raise ServiceError(
                f"Unknown provider '{value}'; use aws, azure or gcp.",
                field="provider",
                code="invalid_provider",
            )
        return value

    def visible_segments(self):
        return selectors.segments_visible(self.get_organization(), self.get_workspaces())

    def segment(self, segment_id) -> Segment:
        """One segment by id. As the seed's contract says, these calls take no ``provider``:
        the segment's own is used (a ``provider`` sent anyway is ignored)."""
        found = self.visible_segments().filter(pk=segment_id).first()
        if found is None:
            raise NotFoundError("Segment not found.", code="not_found")
        return found

    def respond(self, segments, *, many=False, status_code=200):
        items = list(segments) if many else [segments]
        monthly = selectors.monthly_metrics([segment.pk for segment in items])
        serializer = ArcheraSegmentSerializer(
            items if many else segments, many=many, context={"monthly": monthly}
        )
        return Response(serializer.data, status=status_code)


class SegmentFiltersView(ArcheraView):
    @extend_schema(
        operation_id="archera_segment_filters",
        tags=["Archera segments"],
        parameters=[PROVIDER_PARAM],
        responses={
            200: inline_serializer(
                "ArcheraFilterValues",
                {
                    name: serializers.ListField(child=serializers.CharField(), required=False)
                    for name in (
                        "integration_id",
                        "account_id",
                        "service",
                        "region",
                        "operating_system",
                        "tenancy",
                        "instance_family",
                    )
                },
            ),
            **archera_errors(404),
        },
    )
    def get(self, request, org_id):
        return Response(filter_values(self.get_organization(), self.provider()))


class SegmentListView(ArcheraView):
    @extend_schema(
        operation_id="archera_segments_list",
        tags=["Archera segments"],
        parameters=[PROVIDER_PARAM],
        responses={200: ArcheraSegmentSerializer(many=True), **archera_errors(404)},
    )
    def get(self, request, org_id):
        segments = selectors.segments_for_provider(self.visible_segments(), self.provider())
        return self.respond(segments, many=True)

    @extend_schema(
        operation_id="archera_segments_create",
        tags=["Archera segments"],
        request=SegmentCreateSerializer,
        responses={201: ArcheraSegmentSerializer, **archera_errors(404)},
    )
    def post(self, request, org_id):
        body = SegmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        provider = data["provider"]
        segment = services.segment_create(
            self.get_organization(),
            name=data["name"],
            description=data.get("description") or "",
            provider=provider,
            workspace=org_selectors.default_reachable_workspace(request, self.get_organization()),
            filter_tree=parse_structured(data["filters"], provider),
            created_by=request.user,
        )
        # The refresh may already have run (eager Celery): answer with what is stored.
        segment.refresh_from_db()
        return self.respond(segment, status_code=status.HTTP_201_CREATED)


class SegmentDetailView(ArcheraView):
    @extend_schema(
        operation_id="archera_segments_retrieve",
        tags=["Archera segments"],
        responses={200: ArcheraSegmentSerializer, **archera_errors(404)},
    )
    def get(self, request, org_id, segment_id):
        return self.respond(self.segment(segment_id))

    @extend_schema(
        operation_id="archera_segments_update",
        tags=["Archera segments"],
        request=SegmentUpdateSerializer,
        responses={200: ArcheraSegmentSerializer, **archera_errors(404)},
    )
    def patch(self, request, org_id, segment_id):
        segment = self.segment(segment_id)
        body = SegmentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not data:
            raise ServiceError("Give at least one of name, description, filters.", code="empty")
        changes = {key: data[key] for key in ("name", "description") if key in data}
        if "filters" in data:
            changes["filter_tree"] = parse_structured(data["filters"], segment.provider)
        return self.respond(services.segment_update(segment, **changes))

    @extend_schema(
        operation_id="archera_segments_destroy",
        tags=["Archera segments"],
        responses={204: None, **archera_errors(404)},
    )
    def delete(self, request, org_id, segment_id):
        services.segment_delete(self.segment(segment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentDailyMetricsView(ArcheraView):
    @extend_schema(
        operation_id="archera_segments_daily_metrics",
        tags=["Archera segments"],
        parameters=[
            OpenApiParameter("start_date", date, description="First day (default: 30 days ago)."),
            OpenApiParameter("end_date", date, description="Last day (default: today)."),
        ],
        responses={200: DailyMetricSerializer(many=True), **archera_errors(404, 409)},
    )
    def get(self, request, org_id, segment_id):
        segment = self.segment(segment_id)
        if segment.status == Status.NEW:
            raise ConflictError(
                "Metrics for this segment are not ready yet; its status is 'new'. "
                "Try again when it is 'completed'.",
                code="data_not_ready",
            )
        end = date_param(request.query_params, "end_date") or date.today()
        start = date_param(request.query_params, "start_date") or date.fromordinal(
            end.toordinal() - 30
        )
        if start > end:
            raise ServiceError("start_date must not be after end_date.", field="start_date")
        return Response(selectors.daily_metrics(segment, start, end))
