"""Vantage's v2 reporting surface: cost reports, folders, saved filters, tags, costs and exports.

Shapes follow ``@vantage-sh/vantage-client``'s types field for field; errors are
``{"errors": [...]}`` naming the field; lists use Vantage's ``links`` paging (``core.vantage``).
Filters are VQL, parsed into the one filter tree exactly as ``/v2/segments`` parses them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings as django_settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError, ServiceError
from core.params import utc_timestamp
from core.vantage import vantage_errors
from organizations.tenancy import VantageMixin
from segments.api.vantage import parse_filter
from segments.filter_tree import from_json, render_vql

from .. import costs, selectors, services
from ..models import (
    AggregateBy,
    ChartType,
    CostReport,
    DateBin,
    DateInterval,
    Folder,
    FolderType,
    SavedFilter,
)

PAGING = [
    OpenApiParameter("page", int, description="The page of results to return."),
    OpenApiParameter("limit", int, description="The amount of results (max 1000)."),
]
LIST_FILTERS = [
    OpenApiParameter("q", str, description="Search by title."),
    OpenApiParameter("workspace_token", str, description="Only this workspace."),
]


def vql_of(tree) -> str | None:
    return render_vql(from_json(tree)) if tree else None


def user_token(user_id) -> str | None:
    return None if user_id is None else f"usr_{django_settings.COSTLINE_ENVIRONMENT}_{user_id}"


def money_text(value) -> str:
    """An exact Decimal as Vantage writes amounts: "100.0", "12.3456"."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


# --------------------------------------------------------------------------- serializers


@extend_schema_field(
    {"type": "string", "description": "Comma-separated groupings, e.g. provider,service."}
)
class GroupingsField(serializers.Field):
    """Vantage's groupings: "provider,service" (or a list of names)."""

    default_error_messages = {"invalid": "must be a comma-separated string or a list."}

    def to_internal_value(self, data):
        if not isinstance(data, str | list) or (
            isinstance(data, list) and not all(isinstance(item, str) for item in data)
        ):
            self.fail("invalid")
        try:
            return costs.parse_groupings(data)
        except ServiceError as error:
            raise serializers.ValidationError(error.message) from None

    def to_representation(self, value):
        return ",".join(value)


class SavedFilterSerializer(serializers.Serializer):
    """Vantage's SavedFilter."""

    token = serializers.CharField()
    title = serializers.CharField()
    cost_report_tokens = serializers.ListField(child=serializers.CharField())
    filter = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    workspace_token = serializers.CharField()

    def to_representation(self, saved: SavedFilter) -> dict:
        return {
            "token": saved.token,
            "title": saved.title,
            "cost_report_tokens": [report.token for report in saved.reports.all()],
            "filter": vql_of(saved.filter_tree),
            "created_at": utc_timestamp(saved.created_at),
            "created_by": user_token(saved.created_by_id),
            "workspace_token": saved.workspace.token,
        }


class SavedFilterWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    workspace_token = serializers.CharField(required=False)
    filter = serializers.CharField(
        allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )


class SavedFilterUpdateSerializer(SavedFilterWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)
    workspace_token = None


class FolderSerializer(serializers.Serializer):
    """Vantage's Folder."""

    token = serializers.CharField()
    title = serializers.CharField()
    type = serializers.CharField()
    parent_folder_token = serializers.CharField(allow_null=True)
    saved_filter_tokens = serializers.ListField(child=serializers.CharField())
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    workspace_token = serializers.CharField()

    def to_representation(self, folder: Folder) -> dict:
        return {
            "token": folder.token,
            "title": folder.title,
            "type": folder.type,
            "parent_folder_token": folder.parent.token if folder.parent_id else None,
            "saved_filter_tokens": [saved.token for saved in folder.saved_filters.all()],
            "created_at": utc_timestamp(folder.created_at),
            "updated_at": utc_timestamp(folder.updated_at),
            "workspace_token": folder.workspace.token,
        }


class FolderWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    parent_folder_token = serializers.CharField(allow_null=True, required=False)
    saved_filter_tokens = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )
    workspace_token = serializers.CharField(required=False)
    type = serializers.ChoiceField(choices=FolderType.values, required=False)


class FolderUpdateSerializer(FolderWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)
    workspace_token = None
    type = None


class CostReportSettingsSerializer(serializers.Serializer):
    include_credits = serializers.BooleanField(allow_null=True, required=False)
    include_refunds = serializers.BooleanField(allow_null=True, required=False)
    include_discounts = serializers.BooleanField(allow_null=True, required=False)
    include_tax = serializers.BooleanField(allow_null=True, required=False)
    amortize = serializers.BooleanField(allow_null=True, required=False)
    unallocated = serializers.BooleanField(allow_null=True, required=False)
    aggregate_by = serializers.ChoiceField(
        choices=AggregateBy.values, allow_null=True, required=False
    )
    show_previous_period = serializers.BooleanField(allow_null=True, required=False)
    complete_period = serializers.BooleanField(allow_null=True, required=False)


@extend_schema_field({"type": "string", "description": "cost, usage or count."})
class AxisField(serializers.CharField):
    """The chart's y axis (documented inline: its choices are ``aggregate_by``'s)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in AggregateBy.values:
            raise serializers.ValidationError(f'"{value}" is not a valid choice.')
        return value


class ChartSettingsSerializer(serializers.Serializer):
    x_axis_dimension = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=1, required=False
    )
    y_axis_dimension = AxisField(required=False)


DEFAULT_CHART_SETTINGS = {"y_axis_dimension": "cost", "x_axis_dimension": ["date"]}


class CostReportSerializer(serializers.Serializer):
    """Vantage's CostReport."""

    token = serializers.CharField()
    title = serializers.CharField()
    folder_token = serializers.CharField(allow_null=True)
    saved_filter_tokens = serializers.ListField(child=serializers.CharField())
    business_metric_tokens_with_metadata = serializers.ListField(child=serializers.DictField())
    default_forecast = serializers.DictField()
    filter = serializers.CharField(allow_null=True)
    groupings = serializers.CharField(allow_null=True)
    settings = CostReportSettingsSerializer()
    created_at = serializers.CharField()
    workspace_token = serializers.CharField()
    previous_period_start_date = serializers.DateField(allow_null=True)
    previous_period_end_date = serializers.DateField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    date_interval = serializers.CharField()
    chart_type = serializers.CharField()
    date_bin = serializers.CharField()
    chart_settings = ChartSettingsSerializer()

    def to_representation(self, report: CostReport) -> dict:
        start, end = services.report_dates(report)
        return {
            "token": report.token,
            "title": report.title,
            "folder_token": report.folder.token if report.folder_id else None,
            "saved_filter_tokens": [saved.token for saved in report.saved_filters.all()],
            "business_metric_tokens_with_metadata": [],
            "default_forecast": {"kind": "baseline"},
            "filter": vql_of(report.filter_tree),
            "groupings": ",".join(report.groupings) or None,
            "settings": {name: getattr(report, name) for name in services.REPORT_SETTINGS},
            "created_at": utc_timestamp(report.created_at),
            "workspace_token": report.workspace.token,
            "previous_period_start_date": _iso(report.previous_period_start_date),
            "previous_period_end_date": _iso(report.previous_period_end_date),
            "start_date": _iso(start),
            "end_date": _iso(end),
            "date_interval": report.date_interval,
            "chart_type": report.chart_type,
            "date_bin": report.date_bin,
            "chart_settings": {**DEFAULT_CHART_SETTINGS, **(report.chart_settings or {})},
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


class CostReportWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    workspace_token = serializers.CharField(required=False)
    folder_token = serializers.CharField(required=False, allow_null=True)
    groupings = GroupingsField(required=False, allow_null=True)
    filter = serializers.CharField(
        allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )
    saved_filter_tokens = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )
    # Accepted for wire compatibility; Costline has no business metrics or forecasts on reports.
    business_metric_tokens_with_metadata = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=100
    )
    default_forecast = serializers.DictField(required=False)
    settings = CostReportSettingsSerializer(required=False)
    chart_settings = ChartSettingsSerializer(required=False)
    previous_period_start_date = serializers.DateField(required=False, allow_null=True)
    previous_period_end_date = serializers.DateField(required=False, allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    date_interval = serializers.ChoiceField(choices=DateInterval.values, required=False)
    chart_type = serializers.ChoiceField(choices=ChartType.values, required=False)
    date_bin = serializers.ChoiceField(choices=DateBin.values, required=False)


class CostReportUpdateSerializer(CostReportWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)
    workspace_token = None


# --------------------------------------------------------------------------- base view


# Look-ups every view of this surface shares, all inside the request's organization and reachable
# workspaces: another organization's token is a 404. (A comment, not a docstring: the document
# would show it as every operation's description.)
class VantageReportsView(VantageMixin, APIView):
    def folders(self):
        return selectors.folders_visible(self.get_organization(), self.get_workspaces())

    def saved_filters(self):
        return selectors.saved_filters_visible(self.get_organization(), self.get_workspaces())

    def cost_reports(self):
        return selectors.cost_reports_visible(self.get_organization(), self.get_workspaces())

    def saved_filters_by_tokens(self, tokens: list[str]) -> list[SavedFilter]:
        found = {saved.token: saved for saved in self.saved_filters().filter(token__in=tokens)}
        missing = [token for token in tokens if token not in found]
        if missing:
            raise NotFoundError(
                f"Saved filter {missing[0]} not found.", field="saved_filter_tokens"
            )
        return [found[token] for token in dict.fromkeys(tokens)]

    def paged(self, queryset, serializer_class):
        query = self.request.query_params
        if query.get("q"):
            queryset = queryset.filter(title__icontains=query["q"])
        if query.get("workspace_token"):
            queryset = queryset.filter(workspace=self.workspace(query["workspace_token"]))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            queryset.order_by("created_at", "id"), self.request, self
        )
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --------------------------------------------------------------------------- saved filters


class SavedFilterListView(VantageReportsView):
    results_key = "saved_filters"

    @extend_schema(
        operation_id="getSavedFilters",
        tags=["SavedFilters"],
        parameters=[*PAGING, *LIST_FILTERS],
        responses={200: SavedFilterSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        return self.paged(self.saved_filters(), SavedFilterSerializer)

    @extend_schema(
        operation_id="createSavedFilter",
        tags=["SavedFilters"],
        request=SavedFilterWriteSerializer,
        responses={201: SavedFilterSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = SavedFilterWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        saved = services.saved_filter_create(
            self.get_organization(),
            workspace=self.workspace(data.get("workspace_token")),
            title=data["title"],
            filter_tree=parse_filter(data.get("filter")),
            created_by=request.user,
        )
        return Response(SavedFilterSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedFilterDetailView(VantageReportsView):
    def saved(self, token):
        return self.by_token(self.saved_filters(), token, "Saved filter")

    @extend_schema(
        operation_id="getSavedFilter",
        tags=["SavedFilters"],
        responses={200: SavedFilterSerializer, **vantage_errors(404)},
    )
    def get(self, request, saved_filter_token):
        return Response(SavedFilterSerializer(self.saved(saved_filter_token)).data)

    @extend_schema(
        operation_id="updateSavedFilter",
        tags=["SavedFilters"],
        request=SavedFilterUpdateSerializer,
        responses={200: SavedFilterSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, saved_filter_token):
        saved = self.saved(saved_filter_token)
        body = SavedFilterUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "filter" in changes:
            changes["filter_tree"] = parse_filter(changes.pop("filter"))
        saved = services.saved_filter_update(saved, **changes)
        return Response(SavedFilterSerializer(self.saved(saved.token)).data)

    @extend_schema(
        operation_id="deleteSavedFilter",
        tags=["SavedFilters"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, saved_filter_token):
        services.saved_filter_delete(self.saved(saved_filter_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- folders


class FolderListView(VantageReportsView):
    results_key = "folders"

    @extend_schema(
        operation_id="getFolders",
        tags=["Folders"],
        parameters=[
            *PAGING,
            *LIST_FILTERS,
            OpenApiParameter("type", str, enum=FolderType.values, description="Folder type."),
        ],
        responses={200: FolderSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        folders = self.folders()
        folder_type = request.query_params.get("type")
        if folder_type:
            if folder_type not in FolderType.values:
                raise ServiceError(f"must be one of {', '.join(FolderType.values)}.", field="type")
            folders = folders.filter(type=folder_type)
        return self.paged(folders, FolderSerializer)

    @extend_schema(
        operation_id="createFolder",
        tags=["Folders"],
        request=FolderWriteSerializer,
        responses={201: FolderSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = FolderWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        parent = None
        if data.get("parent_folder_token"):
            parent = self.by_token(
                self.folders(), data["parent_folder_token"], "Parent folder", "parent_folder_token"
            )
        folder = services.folder_create(
            self.get_organization(),
            workspace=parent.workspace if parent else self.workspace(data.get("workspace_token")),
            title=data["title"],
            parent=parent,
            saved_filters=self.saved_filters_by_tokens(data.get("saved_filter_tokens", [])),
            type=data.get("type"),
        )
        folder = self.folders().get(pk=folder.pk)
        return Response(FolderSerializer(folder).data, status=status.HTTP_201_CREATED)


class FolderDetailView(VantageReportsView):
    def folder(self, token):
        return self.by_token(self.folders(), token, "Folder")

    @extend_schema(
        operation_id="getFolder",
        tags=["Folders"],
        responses={200: FolderSerializer, **vantage_errors(404)},
    )
    def get(self, request, folder_token):
        return Response(FolderSerializer(self.folder(folder_token)).data)

    @extend_schema(
        operation_id="updateFolder",
        tags=["Folders"],
        request=FolderUpdateSerializer,
        responses={200: FolderSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, folder_token):
        folder = self.folder(folder_token)
        body = FolderUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        changes: dict = {}
        if "title" in data:
            changes["title"] = data["title"]
        if "parent_folder_token" in data:
            token = data["parent_folder_token"]
            changes["parent"] = (
                self.by_token(self.folders(), token, "Parent folder", "parent_folder_token")
                if token
                else None
            )
        if "saved_filter_tokens" in data:
            changes["saved_filters"] = self.saved_filters_by_tokens(data["saved_filter_tokens"])
        services.folder_update(folder, **changes)
        return Response(FolderSerializer(self.folder(folder_token)).data)

    @extend_schema(
        operation_id="deleteFolder",
        tags=["Folders"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, folder_token):
        services.folder_delete(self.folder(folder_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- cost reports


def report_changes(view: VantageReportsView, data: dict) -> dict:
    """A validated CostReport body as the services' keyword arguments."""
    changes: dict = {}
    for name in (
        "title",
        "groupings",
        "previous_period_start_date",
        "previous_period_end_date",
        "start_date",
        "end_date",
        "date_interval",
        "chart_type",
        "date_bin",
    ):
        if name in data:
            changes[name] = data[name]
    if changes.get("groupings", "") is None:
        changes["groupings"] = []
    if "filter" in data:
        changes["filter_tree"] = parse_filter(data["filter"])
    if "folder_token" in data:
        token = data["folder_token"]
        changes["folder"] = (
            view.by_token(view.folders(), token, "Folder", "folder_token") if token else None
        )
    if "saved_filter_tokens" in data:
        changes["saved_filters"] = view.saved_filters_by_tokens(data["saved_filter_tokens"])
    for name, value in (data.get("settings") or {}).items():
        if value is not None:
            changes[name] = value
    if "chart_settings" in data:
        changes["chart_settings"] = dict(data["chart_settings"])
    return changes


class CostReportListView(VantageReportsView):
    results_key = "cost_reports"

    @extend_schema(
        operation_id="getCostReports",
        tags=["CostReports"],
        parameters=[
            *PAGING,
            *LIST_FILTERS,
            OpenApiParameter("folder_token", str, description="Only the reports of this folder."),
        ],
        responses={200: CostReportSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request):
        reports = self.cost_reports()
        if request.query_params.get("folder_token"):
            folder = self.by_token(
                self.folders(), request.query_params["folder_token"], "Folder", "folder_token"
            )
            reports = reports.filter(folder=folder)
        return self.paged(reports, CostReportSerializer)

    @extend_schema(
        operation_id="createCostReport",
        tags=["CostReports"],
        request=CostReportWriteSerializer,
        responses={201: CostReportSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        body = CostReportWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        changes = report_changes(self, data)
        folder = changes.get("folder")
        workspace = folder.workspace if folder else self.workspace(data.get("workspace_token"))
        report = services.cost_report_create(
            self.get_organization(),
            workspace=workspace,
            title=changes.pop("title"),
            filter_tree=changes.pop("filter_tree", None),
            saved_filters=changes.pop("saved_filters", []),
            created_by=request.user,
            **changes,
        )
        report = self.cost_reports().get(pk=report.pk)
        return Response(CostReportSerializer(report).data, status=status.HTTP_201_CREATED)


class CostReportDetailView(VantageReportsView):
    def report(self, token):
        return self.by_token(self.cost_reports(), token, "Cost report")

    @extend_schema(
        operation_id="getCostReport",
        tags=["CostReports"],
        responses={200: CostReportSerializer, **vantage_errors(404)},
    )
    def get(self, request, cost_report_token):
        return Response(CostReportSerializer(self.report(cost_report_token)).data)

    @extend_schema(
        operation_id="updateCostReport",
        tags=["CostReports"],
        request=CostReportUpdateSerializer,
        responses={200: CostReportSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, cost_report_token):
        report = self.report(cost_report_token)
        body = CostReportUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cost_report_update(report, **report_changes(self, body.validated_data))
        return Response(CostReportSerializer(self.report(cost_report_token)).data)

    @extend_schema(
        operation_id="deleteCostReport",
        tags=["CostReports"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, cost_report_token):
        services.cost_report_delete(self.report(cost_report_token))
        return Response(status=status.HTTP_204_NO_CONTENT)
