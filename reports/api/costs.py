"""Vantage's v2 cost queries: ``/v2/costs``, its data exports, and ``/v2/tags``.

The figures come from ``reports.costs.report_costs`` (the one computation); this module reads
the wire parameters, and writes amounts as Vantage does: exact decimals as strings.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import VANTAGE_ENVELOPE, NotFoundError, ServiceError, UnprocessableError
from core.pagination import VantagePagination
from core.params import date_param, utc_timestamp
from core.vantage import vantage_errors
from segments import selectors as segment_selectors
from segments.api.vantage import parse_filter

from .. import costs, selectors, services
from ..models import AggregateBy, DataExport, DateBin
from .vantage import (
    PAGING,
    CostReportSettingsSerializer,
    GroupingsField,
    VantageReportsView,
    money_text,
)

BOOLEAN_SETTINGS = (
    "include_credits",
    "include_refunds",
    "include_discounts",
    "include_tax",
    "amortize",
    "unallocated",
    "show_previous_period",
)
TRUE_TEXTS = ("true", "1", "yes")
FALSE_TEXTS = ("false", "0", "no")
EXPORT_SALT = "reports.data_export"
EXPORT_LINK_SECONDS = 24 * 3600
PARQUET = "application/vnd.apache.parquet"
EXPORT_SCHEMAS = ("vntg", "focus", "comparison")


class CostsPagination(VantagePagination):
    """``limit`` up to 5000 rows of costs per page, as Vantage's ``/v2/costs``."""

    max_limit = 5000


def _boolean(query, name: str) -> bool | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in TRUE_TEXTS:
        return True
    if raw.lower() in FALSE_TEXTS:
        return False
    raise ServiceError(f"must be true or false, got '{raw}'.", field=name)


def settings_from_query(query) -> dict:
    """``settings[include_credits]=true`` ... as a dict of the settings given."""
    given = {name: _boolean(query, f"settings[{name}]") for name in BOOLEAN_SETTINGS}
    aggregate_by = query.get("settings[aggregate_by]")
    if aggregate_by:
        if aggregate_by not in AggregateBy.values:
            raise ServiceError(
                f"must be one of {', '.join(AggregateBy.values)}.", field="settings[aggregate_by]"
            )
        given["aggregate_by"] = aggregate_by
    return given


def _money(amount, currency: str) -> dict:
    return {"amount": money_text(amount), "currency": currency}


def cost_item(line: costs.CostLine, query: costs.CostQuery) -> dict:
    """One Cost of Vantage's shape: date bin, amount, currency and the grouping values."""
    item: dict = {
        "accrued_at": line.accrued_at.isoformat(),
        "amount": money_text(line.amount),
        "currency": line.currency,
    }
    tags = []
    for grouping in query.groupings:
        value = line.group[grouping]
        if grouping.startswith(costs.TAG_PREFIX):
            if value:
                tags.append(f"{grouping[len(costs.TAG_PREFIX) :]}:{value}")
        elif grouping == costs.TAGGED:
            item["tagged"] = bool(value)
        else:
            item[grouping] = value or None
    if any(grouping.startswith(costs.TAG_PREFIX) for grouping in query.groupings):
        item["tag"] = tags[0].split(":", 1)[1] if tags else None
        item["tags"] = tags
    if query.with_usage:
        item["usage"] = {"amount": money_text(line.usage_amount), "unit": line.usage_unit or ""}
    return item


def costs_body(result: costs.CostResult) -> dict:
    """Everything of a Costs answer but ``links`` and ``costs`` (the totals the client reads)."""
    query = result.query
    currency = result.currency
    body: dict = {"total_cost": _money(result.totals.get(currency, costs.ZERO), currency)}
    if len(result.totals) > 1:
        body["total_costs"] = [_money(result.totals[name], name) for name in sorted(result.totals)]
    if query.with_usage:
        body["total_usage"] = [
            {"amount": money_text(amount), "unit": unit}
            for unit, amount in sorted(result.usage_totals.items())
        ]
    if query.aggregate_by == AggregateBy.COUNT:
        body["total_count"] = sum(result.counts.values())
        body["counts"] = [
            {"accrued_at": day.isoformat(), "count": count} for day, count in result.counts.items()
        ]
    if result.previous_totals is not None:
        body["previous_period"] = {
            "start_date": query.previous_start.isoformat(),
            "end_date": query.previous_end.isoformat(),
            "total_cost": _money(result.previous_totals.get(currency, costs.ZERO), currency),
        }
    return body


Money = inline_serializer(
    "CostAmount", {"amount": serializers.CharField(), "currency": serializers.CharField()}
)
CostsResponse = inline_serializer(
    "Costs",
    {
        "links": inline_serializer(
            "CostsLinks",
            {
                name: serializers.URLField(allow_null=name in ("next", "prev"))
                for name in ("self", "first", "next", "last", "prev")
            },
        ),
        "total_cost": Money,
        "total_costs": serializers.ListField(child=Money, required=False),
        "total_usage": serializers.ListField(child=serializers.DictField(), required=False),
        "total_count": serializers.IntegerField(required=False),
        "counts": serializers.ListField(child=serializers.DictField(), required=False),
        "previous_period": serializers.DictField(required=False),
        "costs": serializers.ListField(child=serializers.DictField()),
    },
)


class CostQueryView(VantageReportsView):
    def segment_report(self, report_token: str | None):
        """The segment whose ``report_token`` this is (Vantage's segment reports), if any."""
        if not report_token or self.cost_reports().filter(token=report_token).exists():
            return None
        return (
            segment_selectors.segments_visible(self.get_organization(), self.get_workspaces())
            .filter(report_token=report_token)
            .first()
        )

    def report_or_filter(self, report_token: str | None, vql: str | None, workspace_token):
        """The report named, or the ad-hoc filter; one of them is required."""
        report = None
        if report_token:
            report = self.by_token(
                self.cost_reports(), report_token, "Cost report", "cost_report_token"
            )
        elif workspace_token:
            self.workspace(workspace_token)  # an unknown workspace is a 404
        filter_tree = parse_filter(vql)
        if report is None and filter_tree is None:
            raise ServiceError(
                "give a cost_report_token or a filter (VQL).", field="cost_report_token"
            )
        return report, [filter_tree] if filter_tree is not None else []


class CostsView(CostQueryView):
    """Costs of a cost report (or a segment's report) or of a VQL filter, per date bin and
    grouping, with the totals and the previous period (docs/api.md)."""

    results_key = "costs"
    pagination_class = CostsPagination

    @extend_schema(
        operation_id="getCosts",
        tags=["Costs"],
        parameters=[
            OpenApiParameter("cost_report_token", str, description="The CostReport token."),
            OpenApiParameter("filter", str, description="A VQL filter (instead of a report)."),
            OpenApiParameter("workspace_token", str, description="Checked when given."),
            OpenApiParameter("start_date", str, description="First day, YYYY-MM-DD."),
            OpenApiParameter("end_date", str, description="Last day (included), YYYY-MM-DD."),
            OpenApiParameter(
                "groupings",
                str,
                description="Comma-separated, e.g. provider,service,tag:env. Defaults to the "
                "report's, else provider,service,account_id.",
            ),
            OpenApiParameter("order", str, enum=["asc", "desc"], description="By date."),
            OpenApiParameter("page", int, description="The page of results to return."),
            OpenApiParameter("limit", int, description="The amount of results (max 5000)."),
            OpenApiParameter("date_bin", str, enum=["day", "week", "month", "quarter", "hour"]),
            *(OpenApiParameter(f"settings[{name}]", bool) for name in BOOLEAN_SETTINGS),
            OpenApiParameter("settings[aggregate_by]", str, enum=AggregateBy.values),
        ],
        responses={
            200: CostsResponse,
            **vantage_errors(400, 404, 422),
        },
    )
    def get(self, request):
        query_params = request.query_params
        paginator = self.pagination_class()
        paginator.paginate_queryset([], request, self)  # bad paging is refused before any work
        segment = self.segment_report(query_params.get("cost_report_token"))
        if segment is not None:
            report, filters = None, []
        else:
            report, filters = self.report_or_filter(
                query_params.get("cost_report_token"),
                query_params.get("filter"),
                query_params.get("workspace_token"),
            )
        groupings = None
        for name in ("groupings", "groupings[]"):
            if name in query_params:
                groupings = costs.parse_groupings(query_params.getlist(name))
        date_bin = query_params.get("date_bin") or None
        if date_bin is not None and date_bin not in [*costs.QUERY_BINS, DateBin.HOUR]:
            raise ServiceError("must be one of day, week, month, quarter.", field="date_bin")
        order = query_params.get("order") or "desc"
        if order not in ("asc", "desc"):
            raise ServiceError("must be asc or desc.", field="order")
        query = selectors.cost_query_for(
            report=report,
            filters=filters,
            groupings=groupings,
            start=date_param(query_params, "start_date"),
            end=date_param(query_params, "end_date"),
            date_bin=date_bin,
            settings=settings_from_query(query_params),
            today=timezone.now().date(),
        )
        if segment is not None:
            result = costs.segment_report_costs(segment, query)
        else:
            result = costs.report_costs(self.get_organization(), query)
        page = paginator.paginate_queryset(costs.ordered_lines(result, order), request, self)
        return Response(
            {
                "links": paginator.get_links(),
                **costs_body(result),
                "costs": [cost_item(line, result.query) for line in page],
            }
        )


# --------------------------------------------------------------------------- data exports


class CostExportSerializer(serializers.Serializer):
    cost_report_token = serializers.CharField(required=False, allow_null=True)
    filter = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    workspace_token = serializers.CharField(required=False, allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    groupings = GroupingsField(required=False, allow_null=True)
    # Vantage's choices for an export are these without "cumulative" (refused below).
    date_bin = serializers.ChoiceField(choices=DateBin.values, required=False, allow_null=True)
    schema = serializers.ChoiceField(choices=EXPORT_SCHEMAS, required=False)
    settings = CostReportSettingsSerializer(required=False)


def export_file_url(request, export: DataExport, name: str) -> str:
    key = signing.dumps({"token": export.token, "file": name}, salt=EXPORT_SALT)
    path = reverse("vantage-data-export-file", args=[export.token, name])
    return request.build_absolute_uri(f"{path}?key={key}")


def export_location(request, export: DataExport) -> str:
    return request.build_absolute_uri(reverse("vantage-data-export", args=[export.token]))


def data_export_body(request, export: DataExport) -> dict:
    """Vantage's DataExport; file links are signed and expire (``valid_until``)."""
    done = export.status == DataExport.Status.COMPLETED
    attributes = dict(export.attributes)
    if export.error:
        attributes["error"] = export.error
    return {
        "token": export.token,
        "status": export.status,
        "created_at": utc_timestamp(export.created_at),
        "export_type": export.export_type,
        "manifest": {
            "files": [export_file_url(request, export, name) for name in export.files]
            if done
            else [],
            "completed_at": utc_timestamp(export.completed_at) if export.completed_at else None,
            "valid_until": utc_timestamp(timezone.now() + timedelta(seconds=EXPORT_LINK_SECONDS))
            if done
            else None,
        },
        "attributes": attributes,
    }


DataExportResponse = inline_serializer(
    "DataExport",
    {
        "token": serializers.CharField(),
        "status": serializers.ChoiceField(choices=DataExport.Status.values),
        "created_at": serializers.CharField(),
        "export_type": serializers.CharField(),
        "manifest": inline_serializer(
            "DataExportManifest",
            {
                "files": serializers.ListField(child=serializers.URLField()),
                "completed_at": serializers.CharField(allow_null=True),
                "valid_until": serializers.CharField(allow_null=True),
            },
        ),
        "attributes": serializers.DictField(),
    },
)


class CostExportView(CostQueryView):
    """Queue an export of ``/v2/costs`` (every page) as CSV and Parquet files."""

    @extend_schema(
        operation_id="createCostExport",
        tags=["Costs"],
        request=CostExportSerializer,
        responses={
            202: DataExportResponse,
            **vantage_errors(400, 403, 404, 422),
        },
    )
    def post(self, request):
        body = CostExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("schema", "vntg") != "vntg":
            raise UnprocessableError("only the vntg schema is available for now.", field="schema")
        report, filters = self.report_or_filter(
            data.get("cost_report_token"), data.get("filter"), data.get("workspace_token")
        )
        query = selectors.cost_query_for(
            report=report,
            filters=filters,
            groupings=data.get("groupings"),
            start=data.get("start_date"),
            end=data.get("end_date"),
            date_bin=data.get("date_bin"),
            settings=dict(data.get("settings") or {}),
            today=timezone.now().date(),
        )
        if query.date_bin not in costs.QUERY_BINS:
            raise ServiceError(
                "must be day, week, month or quarter (cost rows are daily: no hourly costs).",
                field="date_bin",
            )
        export = services.data_export_create(
            self.get_organization(),
            workspace=report.workspace if report else None,
            attributes=selectors.export_attributes(query, report, data.get("filter") or None),
            created_by=request.user,
        )
        return Response(
            data_export_body(request, export),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": export_location(request, export)},
        )


class DataExportView(VantageReportsView):
    """An export's state; its manifest lists signed file links once it is completed."""

    @extend_schema(
        operation_id="getDataExport",
        tags=["DataExports"],
        responses={200: DataExportResponse, 202: DataExportResponse, **vantage_errors(404)},
    )
    def get(self, request, data_export_token):
        export = self.by_token(
            selectors.data_exports_visible(self.get_organization()),
            data_export_token,
            "Data export",
        )
        body = data_export_body(request, export)
        if export.status == DataExport.Status.PENDING:
            headers = {"Location": export_location(request, export), "Retry-After": "2"}
            return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)
        return Response(body)


class DataExportFileView(APIView):
    """A file of a completed export; the signed ``key`` of its manifest link is the credential
    (as a pre-signed bucket URL is), valid for a day."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    error_envelope = VANTAGE_ENVELOPE

    @extend_schema(
        operation_id="getDataExportFile",
        tags=["DataExports"],
        parameters=[OpenApiParameter("key", str, required=True, description="From the manifest.")],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file."),
            (200, PARQUET): OpenApiResponse(OpenApiTypes.BINARY, description="The Parquet file."),
            **vantage_errors(404),
        },
    )
    def get(self, request, data_export_token, file_name):
        try:
            signed = signing.loads(
                request.query_params.get("key", ""), salt=EXPORT_SALT, max_age=EXPORT_LINK_SECONDS
            )
        except signing.BadSignature:
            raise NotFoundError("File not found (or its link expired).") from None
        if signed != {"token": data_export_token, "file": file_name}:
            raise NotFoundError("File not found (or its link expired).")
        export = DataExport.objects.filter(token=data_export_token).first()
        if export is None or file_name not in export.files:
            raise NotFoundError("File not found (or its link expired).")
        path = services.export_directory(export) / file_name
        if not path.is_file():
            raise NotFoundError("File not found (or its link expired).")
        content_type = (
            "text/csv" if file_name.endswith(".csv") else "application/vnd.apache.parquet"
        )
        return FileResponse(
            open(path, "rb"), as_attachment=True, filename=file_name, content_type=content_type
        )


# --------------------------------------------------------------------------- tags


def _tag_query(query) -> dict:
    providers = [
        provider.strip()
        for value in [*query.getlist("providers"), *query.getlist("providers[]")]
        for provider in value.split(",")
        if provider.strip()
    ]
    direction = query.get("sort_direction") or "asc"
    if direction not in ("asc", "desc"):
        raise ServiceError("must be asc or desc.", field="sort_direction")
    return {
        "providers": providers or None,
        "search": query.get("search_query") or "",
        "descending": direction == "desc",
    }


class TagSerializer(serializers.Serializer):
    tag_key = serializers.CharField()
    hidden = serializers.BooleanField()
    preferred = serializers.BooleanField()
    providers = serializers.ListField(child=serializers.CharField())


class TagValueSerializer(serializers.Serializer):
    tag_value = serializers.CharField()
    providers = serializers.ListField(child=serializers.CharField())


TAG_PARAMETERS = [
    *PAGING,
    OpenApiParameter("providers", str, description="Comma-separated providers."),
    OpenApiParameter("search_query", str, description="Search by text."),
    OpenApiParameter("sort_direction", str, enum=["asc", "desc"]),
]


class TagListView(VantageReportsView):
    """The tag keys of the organization's cost data, from the dimension-value table."""

    results_key = "tags"

    @extend_schema(
        operation_id="getTags",
        tags=["Tags"],
        parameters=TAG_PARAMETERS,
        responses={200: TagSerializer(many=True), **vantage_errors(400)},
    )
    def get(self, request):
        tags = selectors.tag_keys(self.get_organization(), **_tag_query(request.query_params))
        paginator = self.pagination_class()
        return paginator.get_paginated_response(paginator.paginate_queryset(tags, request, self))


class TagValuesView(VantageReportsView):
    """The values of one tag key, from the dimension-value table."""

    results_key = "tag_values"

    @extend_schema(
        operation_id="getTagValues",
        tags=["Tags"],
        parameters=TAG_PARAMETERS,
        responses={200: TagValueSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request, key):
        organization = self.get_organization()
        paginator = self.pagination_class()
        paginator.paginate_queryset([], request, self)  # bad paging is refused first
        if not selectors.tag_key_exists(organization, key):
            raise NotFoundError("Tag not found.")
        values = selectors.tag_values(organization, key, **_tag_query(request.query_params))
        return paginator.get_paginated_response(paginator.paginate_queryset(values, request, self))
