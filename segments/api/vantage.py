"""Vantage's v2 Segments surface: ``/v2/segments`` and ``/v2/segments/{token}``.

Filters travel as VQL; errors are ``{"errors": [...]}``; lists use Vantage's ``links`` paging.
"""

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError, ServiceError
from core.params import date_param, utc_timestamp
from core.vantage import vantage_errors
from organizations.tenancy import VantageMixin

from .. import selectors, services
from ..filter_tree import from_json, parse_vql, render_vql
from ..models import Granularity, Segment

REPORT_SETTINGS = services.REPORT_SETTINGS


class ReportSettingsSerializer(serializers.Serializer):
    include_credits = serializers.BooleanField(allow_null=True, required=False)
    include_refunds = serializers.BooleanField(allow_null=True, required=False)
    include_discounts = serializers.BooleanField(allow_null=True, required=False)
    include_tax = serializers.BooleanField(allow_null=True, required=False)
    amortize = serializers.BooleanField(allow_null=True, required=False)


class SegmentSerializer(serializers.Serializer):
    """Vantage's Segment model, field for field."""

    token = serializers.CharField()
    title = serializers.CharField()
    parent_segment_token = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    track_unallocated = serializers.BooleanField()
    report_settings = ReportSettingsSerializer()
    priority = serializers.IntegerField()
    filter = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    workspace_token = serializers.CharField()
    report_token = serializers.CharField(allow_null=True)

    def to_representation(self, segment: Segment) -> dict:
        # A list passes every segment of the organization by id (one query for any tree).
        by_id = self.context.get("segments_by_id")
        if by_id is not None:
            top = selectors.top_level(segment, by_id)
            parent = by_id.get(segment.parent_id)
        else:
            top = selectors.top_level(segment)
            parent = segment.parent
        return {
            "token": segment.token,
            "title": segment.name,
            "parent_segment_token": parent.token if parent is not None else None,
            "description": segment.description or "",
            "track_unallocated": segment.track_unallocated,
            "report_settings": {name: getattr(top, name) for name in REPORT_SETTINGS},
            "priority": segment.priority,
            "filter": render_vql(from_json(segment.filter_tree)) if segment.filter_tree else None,
            "created_at": utc_timestamp(segment.created_at),
            "workspace_token": segment.workspace.token,
            "report_token": segment.report_token,
        }


class SegmentWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    priority = serializers.IntegerField(required=False, min_value=-2147483648, max_value=2147483647)
    track_unallocated = serializers.BooleanField(required=False)
    report_settings = ReportSettingsSerializer(required=False)
    workspace_token = serializers.CharField(required=False)
    filter = serializers.CharField(
        allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )
    parent_segment_token = serializers.CharField(allow_null=True, required=False)


class SegmentUpdateSerializer(SegmentWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)
    workspace_token = None


def parse_filter(text: str | None):
    """VQL to a tree: syntax errors are 400s, meaningful-but-invalid filters 422s (the Vantage
    surface's statuses by code, ``core.errors.VantageEnvelope``). Vantage's
    LIKE restriction is not applied (Costline's other surfaces store LIKE on a service or region,
    and a filter read back must post back unchanged); the segment services require a
    ``costs.provider`` condition on top-level segments, as Vantage does."""
    if text is None or not text.strip():
        return None
    return parse_vql(text, vantage_rules=False)


class VantageSegmentView(VantageMixin, APIView):
    def segments(self):
        return selectors.segments_visible(self.get_organization(), self.get_workspaces())

    def segment_by_token(self, token: str, field: str | None = None) -> Segment:
        found = self.segments().filter(token=token).first()
        if found is None:
            message = "Segment not found." if field is None else "Parent segment not found."
            raise NotFoundError(message, field=field)
        return found

    def settings_of(self, data: dict) -> dict:
        given = data.get("report_settings") or {}
        return {name: given[name] for name in REPORT_SETTINGS if given.get(name) is not None}


class SegmentListView(VantageSegmentView):
    results_key = "segments"

    @extend_schema(
        operation_id="getSegments",
        tags=["Segments"],
        parameters=[
            OpenApiParameter("page", int, description="The page of results to return."),
            OpenApiParameter("limit", int, description="The amount of results (max 1000)."),
            OpenApiParameter("q", str, description="Search segments by title."),
            OpenApiParameter("workspace_token", str, description="Only this workspace."),
        ],
        responses={200: SegmentSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        segments = self.segments().order_by("created_at", "id")
        if request.query_params.get("q"):
            segments = segments.filter(name__icontains=request.query_params["q"])
        if request.query_params.get("workspace_token"):
            # An unknown (or unreachable) workspace is a 404, not an empty list.
            workspace = self.workspace(request.query_params["workspace_token"])
            segments = segments.filter(workspace=workspace)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(segments, request, view=self)
        context = {"segments_by_id": selectors.organization_segments_by_id(self.get_organization())}
        return paginator.get_paginated_response(
            SegmentSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        operation_id="createSegment",
        tags=["Segments"],
        request=SegmentWriteSerializer,
        responses={201: SegmentSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = SegmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        parent = None
        if data.get("parent_segment_token"):
            parent = self.segment_by_token(data["parent_segment_token"], "parent_segment_token")
        workspace = parent.workspace if parent else self.workspace(data.get("workspace_token"))
        segment = services.segment_create(
            self.get_organization(),
            name=data["title"],
            workspace=workspace,
            filter_tree=parse_filter(data.get("filter")),
            parent=parent,
            description=data.get("description") or "",
            priority=data.get("priority", 100),
            track_unallocated=data.get("track_unallocated", False),
            created_by=request.user,
            **self.settings_of(data),
        )
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailView(VantageSegmentView):
    @extend_schema(
        operation_id="getSegment",
        tags=["Segments"],
        responses={200: SegmentSerializer, **vantage_errors(404)},
    )
    def get(self, request, segment_token):
        return Response(SegmentSerializer(self.segment_by_token(segment_token)).data)

    @extend_schema(
        operation_id="updateSegment",
        tags=["Segments"],
        request=SegmentUpdateSerializer,
        responses={200: SegmentSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, segment_token):
        segment = self.segment_by_token(segment_token)
        body = SegmentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        changes: dict = self.settings_of(data)
        if "title" in data:
            changes["name"] = data["title"]
        for name in ("description", "priority", "track_unallocated"):
            if name in data:
                changes[name] = data[name]
        if "parent_segment_token" in data:
            token = data["parent_segment_token"]
            changes["parent"] = (
                self.segment_by_token(token, "parent_segment_token") if token else None
            )
        if "filter" in data:
            changes["filter_tree"] = parse_filter(data["filter"])
        return Response(SegmentSerializer(services.segment_update(segment, **changes)).data)

    @extend_schema(
        operation_id="deleteSegment",
        tags=["Segments"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, segment_token):
        services.segment_delete(self.segment_by_token(segment_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


CostPoint = inline_serializer(
    "SegmentCostPoint",
    {
        "date": serializers.CharField(required=False),
        "month": serializers.CharField(required=False),
        "cost": serializers.FloatField(),
        "billed_cost": serializers.FloatField(),
        "effective_cost": serializers.FloatField(),
        "list_cost": serializers.FloatField(),
        "savings": serializers.FloatField(),
        "coverage": serializers.FloatField(),
    },
    many=True,
)


class SegmentCostsView(VantageSegmentView):
    """Beyond Vantage: the segment's cost lines (itself, children, unallocated)."""

    @extend_schema(
        operation_id="getSegmentCosts",
        tags=["Segments"],
        parameters=[
            OpenApiParameter("granularity", str, enum=["day", "month"]),
            OpenApiParameter("start_date", date),
            OpenApiParameter("end_date", date),
        ],
        responses={
            200: inline_serializer(
                "SegmentCosts",
                {
                    "segment_token": serializers.CharField(),
                    "status": serializers.CharField(),
                    "granularity": serializers.CharField(),
                    "currency": serializers.CharField(),
                    "lines": inline_serializer(
                        "SegmentCostLine",
                        {
                            "segment": serializers.CharField(),
                            "token": serializers.CharField(),
                            "line": serializers.CharField(),
                            "points": CostPoint,
                        },
                        many=True,
                    ),
                },
            ),
            **vantage_errors(400, 404),
        },
    )
    def get(self, request, segment_token):
        segment = self.segment_by_token(segment_token)
        granularity = request.query_params.get("granularity") or Granularity.MONTH
        if granularity not in Granularity.values:
            raise ServiceError("granularity must be day or month.", field="granularity")
        start = date_param(request.query_params, "start_date")
        end = date_param(request.query_params, "end_date")
        return Response(
            {
                "segment_token": segment.token,
                "status": segment.status,
                "granularity": granularity,
                "currency": "USD",
                "lines": selectors.cost_lines(segment, granularity, start, end),
            }
        )


class SegmentHistoryView(VantageSegmentView):
    """Beyond Vantage: every change of the segment (who, when, before/after, money moved)."""

    @extend_schema(
        operation_id="getSegmentHistory",
        tags=["Segments"],
        responses={200: None, **vantage_errors(404)},
    )
    def get(self, request, segment_token):
        segment = self.segment_by_token(segment_token)
        return Response({"history": selectors.history_of(segment)})
