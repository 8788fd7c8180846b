"""Vantage's business metrics and unit costs: ``/v2/business_metrics`` (with its values, labels,
forecasted values and CSV upload), ``/v2/unit_costs`` and ``/v2/unit_costs/data_exports``.

Shapes follow ``@vantage-sh/vantage-client``'s types; amounts are exact decimals as strings;
errors use Vantage's envelope naming the field. Costline adds, on the BusinessMetric, its live
source (``billable_metric_token``, ``label_dimension``) and price (``price_per_unit``,
``currency``); a client that does not know them ignores them.
"""

from __future__ import annotations

import datetime
import io
import re

from django.http import QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.errors import NotFoundError, ServiceError
from core.params import date_param
from core.vantage import vantage_errors
from metrics.models import BillableMetric
from reports import costs as report_costs
from reports import services as report_services
from reports.api.costs import DataExportResponse, data_export_body, export_location
from reports.api.vantage import PAGING, VantageReportsView, money_text, user_token

from .. import selectors, services
from ..models import (
    BusinessMetric,
    CalculationType,
    ImportType,
    UnitScale,
)


def day_timestamp(day: datetime.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


# --------------------------------------------------------------------------- serializers


class AttachmentSerializer(serializers.Serializer):
    cost_report_token = serializers.CharField()
    unit_scale = serializers.ChoiceField(choices=UnitScale.values, required=False)
    calculation_type = serializers.ChoiceField(choices=CalculationType.values, required=False)
    label = serializers.CharField(required=False, allow_null=True, max_length=255)
    label_filter = serializers.ListField(
        child=serializers.CharField(max_length=255, allow_blank=True),
        required=False,
        allow_null=True,
        max_length=1000,
    )
    label_filters = serializers.DictField(required=False, allow_null=True)


class BusinessMetricSerializer(serializers.Serializer):
    """Vantage's BusinessMetric, plus Costline's live source and price."""

    token = serializers.CharField()
    title = serializers.CharField()
    created_by_token = serializers.CharField(allow_null=True)
    cost_report_tokens_with_metadata = serializers.ListField(child=serializers.DictField())
    import_type = serializers.CharField(allow_null=True)
    integration_token = serializers.CharField(allow_null=True)
    billable_metric_token = serializers.CharField(allow_null=True)
    label_dimension = serializers.CharField(allow_null=True)
    price_per_unit = serializers.CharField(allow_null=True)
    currency = serializers.CharField()

    def to_representation(self, metric: BusinessMetric) -> dict:
        return {
            "token": metric.token,
            "title": metric.title,
            "created_by_token": user_token(metric.created_by_id),
            "cost_report_tokens_with_metadata": [
                {
                    "cost_report_token": attachment.cost_report.token,
                    "unit_scale": attachment.unit_scale,
                    "calculation_type": attachment.calculation_type,
                    "label": attachment.label,
                    "label_filter": list(attachment.label_filter or []),
                }
                for attachment in metric.cost_report_attachments.all()
            ],
            # Vantage says null for values sent through the API.
            "import_type": None if metric.import_type == ImportType.API else metric.import_type,
            "integration_token": None,
            "billable_metric_token": metric.billable_metric_id,
            "label_dimension": metric.label_dimension or None if metric.is_live else None,
            "price_per_unit": money_text(metric.price_per_unit)
            if metric.price_per_unit is not None
            else None,
            "currency": metric.currency,
        }


@extend_schema_field(
    {
        "type": "string",
        "anyOf": [{"format": "date"}, {"format": "date-time"}],
        "description": "A day (YYYY-MM-DD) or a date-time (its UTC day).",
    }
)
class DayField(serializers.Field):
    """A day as Vantage sends it: ``2026-08-01`` or ``2026-08-01T00:00:00Z`` (its UTC day)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("must be a date like 2026-08-01.")
        try:
            return services.parse_date(data, "date")
        except ServiceError as error:
            raise serializers.ValidationError(error.message) from None

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "USD"})
class CurrencyField(serializers.RegexField):
    """An ISO 4217 code (three letters, any case)."""

    def __init__(self, **kwargs):
        super().__init__(r"^[A-Za-z]{3}$", **kwargs)


# Amounts are stored as Decimal(28, 10): less than 10^18 in size.
AMOUNT_BOUND = 9.99e17


@extend_schema_field(
    {
        "type": "number",
        "minimum": -1e18,
        "exclusiveMinimum": True,
        "maximum": 1e18,
        "exclusiveMaximum": True,
        "description": "Less than 10^18 in size (services.parse_amount).",
    }
)
class AmountField(serializers.FloatField):
    """Documents a value's amount; ``services.value_rows`` checks it."""


class ValueSerializer(serializers.Serializer):
    date = DayField()
    amount = AmountField()
    label = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=255, trim_whitespace=False
    )


@extend_schema_field(ValueSerializer(many=True))
class ValuesField(serializers.ListField):
    """Values as documented by ``ValueSerializer``, checked by ``services.value_rows`` (which
    names the item in its errors: ``values[2].amount``)."""

    child = serializers.DictField()

    def __init__(self, **kwargs):
        super().__init__(max_length=100_000, **kwargs)


PRICE_TEXT = r"^[0-9]{1,17}(\.[0-9]{1,10})?$"


@extend_schema_field(
    {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": AMOUNT_BOUND},
            {"type": "string", "pattern": PRICE_TEXT, "example": "0.002"},
        ],
        "nullable": True,
        "description": "A non-negative price: a JSON number or a decimal text (as answered).",
    }
)
class PriceField(serializers.FloatField):
    """A price as a JSON number or the decimal text the API answers with; not ``true`` (which
    DRF would read as 1) nor other texts DRF reads as floats (``1e3``, `` 2 ``)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and not re.fullmatch(PRICE_TEXT, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class BusinessMetricWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    cost_report_tokens_with_metadata = AttachmentSerializer(many=True, required=False)
    values = ValuesField(required=False)
    forecasted_values = ValuesField(required=False)
    billable_metric_token = serializers.CharField(required=False, allow_null=True)
    label_dimension = serializers.CharField(required=False, allow_blank=True, max_length=255)
    price_per_unit = PriceField(
        required=False, allow_null=True, min_value=0, max_value=AMOUNT_BOUND
    )
    currency = CurrencyField(required=False)


class BusinessMetricUpdateSerializer(BusinessMetricWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)


class BusinessMetricValueSerializer(serializers.Serializer):
    date = serializers.CharField()
    amount = serializers.CharField()
    label = serializers.CharField(allow_null=True)


def value_body(row: tuple) -> dict:
    day, label, amount = row
    return {"date": day_timestamp(day), "amount": money_text(amount), "label": label or None}


UnitCostResponse = inline_serializer(
    "UnitCost",
    {
        "business_metric_token": serializers.CharField(),
        "business_metric_title": serializers.CharField(),
        "calculation_type": serializers.CharField(),
        "unit_cost_amount": serializers.CharField(),
        "business_metric_amount": serializers.CharField(),
        "scale": serializers.FloatField(),
        "date": serializers.CharField(),
        "cost": serializers.CharField(),
        "currency": serializers.CharField(),
    },
)


# --------------------------------------------------------------------------- parsers


class BoundarySniffingMultiPartParser(BaseParser):
    """``multipart/form-data`` whose header lost its boundary: the official client sets the
    bare content type over a FormData body, so the boundary is read from the body's first
    line (``--<boundary>``) instead."""

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        if "boundary=" in (media_type or ""):
            return MultiPartParser().parse(stream, media_type, parser_context)
        body = stream.read() if stream is not None else b""
        first_line = body.split(b"\r\n", 1)[0]
        if not first_line.startswith(b"--") or len(first_line) < 3:
            raise ParseError("Multipart body without a boundary.")
        boundary = first_line[2:].decode("ascii", "replace")
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = f"multipart/form-data; boundary={boundary}"
        meta["CONTENT_LENGTH"] = str(len(body))
        try:
            data, files = DjangoMultiPartParser(
                meta, io.BytesIO(body), request.upload_handlers, "utf-8"
            ).parse()
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from None
        return _DataAndFiles(data, files)


class _DataAndFiles:
    def __init__(self, data: QueryDict, files):
        self.data = data
        self.files = files


# --------------------------------------------------------------------------- base view


# Paging is every Vantage list's here (``limit`` up to 1000, as the OpenAPI document says for
# all of them), though Vantage's own business-metric lists go to 5000.
class BusinessView(VantageReportsView):
    def business_metrics(self):
        return selectors.business_metrics_visible(self.get_organization())

    def checked_paginator(self, default_limit: int | None = None):
        """A paginator whose ``page`` and ``limit`` were checked already: bad paging is a 400
        even where the metric named does not exist."""
        paginator = self.pagination_class()
        if default_limit:
            paginator.default_limit = default_limit
        paginator.paginate_queryset([], self.request, self)
        return paginator

    def metric(self, token: str) -> BusinessMetric:
        return self.by_token(self.business_metrics(), token, "Business metric")

    def attachments(self, items: list[dict]) -> list[services.Attachment]:
        found = []
        for index, item in enumerate(items or []):
            report = self.by_token(
                self.cost_reports(),
                item["cost_report_token"],
                "Cost report",
                f"cost_report_tokens_with_metadata[{index}].cost_report_token",
            )
            found.append(
                services.Attachment(
                    cost_report=report,
                    unit_scale=item.get("unit_scale") or UnitScale.PER_UNIT,
                    calculation_type=item.get("calculation_type") or CalculationType.UNIT_COST,
                    label=item.get("label"),
                    label_filter=tuple(item.get("label_filter") or ()),
                )
            )
        return found

    def billable_metric(self, token: str | None) -> BillableMetric | None:
        if not token:
            return None
        found = BillableMetric.objects.filter(
            organization=self.get_organization(), pk=token
        ).first()
        if found is None:
            raise NotFoundError("Billable metric not found.", field="billable_metric_token")
        return found

    def changes(self, data: dict) -> dict:
        changes: dict = {}
        if "title" in data:
            changes["title"] = data["title"]
        if "cost_report_tokens_with_metadata" in data:
            changes["attachments"] = self.attachments(data["cost_report_tokens_with_metadata"])
        if "values" in data:
            changes["values"] = services.value_rows(data["values"], "values")
        if "forecasted_values" in data:
            changes["forecasted_values"] = services.value_rows(
                data["forecasted_values"], "forecasted_values"
            )
        if "billable_metric_token" in data:
            changes["billable_metric"] = self.billable_metric(data["billable_metric_token"])
        for name in ("label_dimension", "price_per_unit", "currency"):
            if name in data:
                changes[name] = data[name]
        return changes

    def metric_body(self, metric: BusinessMetric) -> dict:
        return BusinessMetricSerializer(self.metric(metric.token)).data


# --------------------------------------------------------------------------- business metrics


class BusinessMetricListView(BusinessView):
    results_key = "business_metrics"

    @extend_schema(
        operation_id="getBusinessMetrics",
        tags=["BusinessMetrics"],
        parameters=[*PAGING, OpenApiParameter("q", str, description="Search by title.")],
        responses={200: BusinessMetricSerializer(many=True), **vantage_errors(400)},
    )
    def get(self, request):
        metrics = self.business_metrics()
        if request.query_params.get("q"):
            metrics = metrics.filter(title__icontains=request.query_params["q"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(metrics.order_by("created_at", "id"), request, self)
        return paginator.get_paginated_response(BusinessMetricSerializer(page, many=True).data)

    @extend_schema(
        operation_id="createBusinessMetric",
        tags=["BusinessMetrics"],
        request=BusinessMetricWriteSerializer,
        responses={201: BusinessMetricSerializer, **vantage_errors(400, 403, 404, 415, 422)},
    )
    def post(self, request):
        body = BusinessMetricWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = self.changes(body.validated_data)
        metric = services.business_metric_create(
            self.get_organization(),
            title=changes.pop("title"),
            created_by=request.user,
            **changes,
        )
        return Response(self.metric_body(metric), status=status.HTTP_201_CREATED)


class BusinessMetricDetailView(BusinessView):
    @extend_schema(
        operation_id="getBusinessMetric",
        tags=["BusinessMetrics"],
        responses={200: BusinessMetricSerializer, **vantage_errors(404)},
    )
    def get(self, request, business_metric_token):
        return Response(BusinessMetricSerializer(self.metric(business_metric_token)).data)

    @extend_schema(
        operation_id="updateBusinessMetric",
        tags=["BusinessMetrics"],
        request=BusinessMetricUpdateSerializer,
        responses={200: BusinessMetricSerializer, **vantage_errors(400, 403, 404, 415, 422)},
    )
    def put(self, request, business_metric_token):
        metric = self.metric(business_metric_token)
        body = BusinessMetricUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        metric = services.business_metric_update(metric, **self.changes(body.validated_data))
        return Response(self.metric_body(metric))

    @extend_schema(
        operation_id="deleteBusinessMetric",
        tags=["BusinessMetrics"],
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, business_metric_token):
        services.business_metric_delete(self.metric(business_metric_token))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _flag(value, field: str) -> bool:
    """A boolean as JSON (``true``) or as query/form text (``true``, ``false``, ``1``, ``0``, any
    case; empty is not given); anything else is refused rather than read as false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise ServiceError("must be true or false.", field=field, code="invalid")


def _labels_param(query) -> list[str] | None:
    """``label_values`` as the client sends it (one comma-joined value) or repeated."""
    raw = [*query.getlist("label_values"), *query.getlist("label_values[]")]
    labels = [label for value in raw for label in value.split(",")]
    return labels or None


class BusinessMetricValuesView(BusinessView):
    results_key = "values"

    @extend_schema(
        operation_id="getBusinessMetricValues",
        tags=["BusinessMetrics"],
        parameters=[
            *PAGING,
            OpenApiParameter("start_date", OpenApiTypes.DATE, description="From this day."),
            OpenApiParameter("label_values", str, many=True, description="Only these labels."),
            OpenApiParameter("date_bin", str, enum=["day", "month"], description="Sum per bin."),
        ],
        responses={200: BusinessMetricValueSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request, business_metric_token):
        paginator = self.checked_paginator()
        metric = self.metric(business_metric_token)
        query = request.query_params
        date_bin = query.get("date_bin") or None
        if date_bin not in (None, "day", "month"):
            raise ServiceError("must be day or month.", field="date_bin")
        start = date_param(query, "start_date")
        if metric.is_live:
            today = timezone.now().date()
            services.live_metric_bring_up_to_date(
                metric, start or today - datetime.timedelta(days=365), today
            )
        rows = selectors.values_listing(
            metric, start=start, labels=_labels_param(query), date_bin=date_bin
        )
        page = paginator.paginate_queryset(rows, request, self)
        return paginator.get_paginated_response([value_body(row) for row in page])

    @extend_schema(
        operation_id="deleteBusinessMetricValues",
        tags=["BusinessMetrics"],
        parameters=[
            OpenApiParameter("start_date", OpenApiTypes.DATE, description="From this day."),
            OpenApiParameter("end_date", OpenApiTypes.DATE, description="To this day, inclusive."),
            OpenApiParameter("label", str, description="Only this exact label (may be empty)."),
            OpenApiParameter("forecasted", bool, description="Delete forecasted values."),
        ],
        responses={
            200: inline_serializer(
                "BusinessMetricValuesDeleteResponse", {"deleted_count": serializers.IntegerField()}
            ),
            **vantage_errors(400, 403, 404, 415, 422),
        },
    )
    def delete(self, request, business_metric_token):
        metric = self.metric(business_metric_token)
        # The official client sends these as a JSON body; curl users put them in the query.
        given = {**(request.data if isinstance(request.data, dict) else {})}
        given.update({name: value for name, value in request.query_params.items()})
        start = (
            services.parse_date(given["start_date"], "start_date")
            if given.get("start_date")
            else None
        )
        end = services.parse_date(given["end_date"], "end_date") if given.get("end_date") else None
        forecasted = _flag(given.get("forecasted"), "forecasted")
        label = given.get("label") if "label" in given else None
        deleted = services.values_delete(
            metric,
            start=start,
            end=end,
            label=None if label is None else str(label),
            forecasted=forecasted,
        )
        return Response({"deleted_count": deleted})


class BusinessMetricValuesCSVView(BusinessView):
    parser_classes = [BoundarySniffingMultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="updateBusinessMetricValuesCSV",
        tags=["BusinessMetrics"],
        # The file must be a CSV whose header names date and amount: the encoding says the
        # media type, but no JSON schema can say the bytes parse as such.
        request={
            "multipart/form-data": OpenApiRequest(
                inline_serializer(
                    "BusinessMetricValuesCSV",
                    {
                        "csv": serializers.FileField(
                            help_text="A CSV file: a header naming date and amount (and "
                            "optionally label), then one row per day and label."
                        ),
                        "forecasted": serializers.BooleanField(required=False),
                    },
                ),
                encoding={"csv": {"contentType": "text/csv"}},
            )
        },
        responses={200: BusinessMetricSerializer, **vantage_errors(400, 403, 404, 415, 422)},
    )
    def put(self, request, business_metric_token):
        metric = self.metric(business_metric_token)
        upload = request.FILES.get("csv") if hasattr(request, "FILES") else None
        content = upload.read() if upload is not None else request.data.get("csv")
        if not content:
            raise ServiceError("is required: a CSV file with date and amount.", field="csv")
        forecasted = _flag(request.data.get("forecasted"), "forecasted")
        services.values_csv_import(metric, content, forecasted=forecasted)
        return Response(self.metric_body(metric))


class BusinessMetricForecastedValuesView(BusinessView):
    results_key = "values"

    @extend_schema(
        operation_id="getBusinessMetricForecastedValues",
        tags=["BusinessMetrics"],
        parameters=[
            *PAGING,
            OpenApiParameter("start_date", OpenApiTypes.DATE, description="From this day."),
        ],
        responses={200: BusinessMetricValueSerializer(many=True), **vantage_errors(400, 404)},
    )
    def get(self, request, business_metric_token):
        paginator = self.checked_paginator()
        metric = self.metric(business_metric_token)
        start = date_param(request.query_params, "start_date")
        rows = [row for row in selectors.forecast(metric) if start is None or row[0] >= start]
        rows.sort(key=lambda row: (row[0], row[1]))
        page = paginator.paginate_queryset(rows, request, self)
        return paginator.get_paginated_response([value_body(row) for row in page])


class BusinessMetricLabelsView(BusinessView):
    results_key = "labels"

    @extend_schema(
        operation_id="getBusinessMetricLabels",
        tags=["BusinessMetrics"],
        parameters=PAGING,
        responses={
            200: inline_serializer(
                "BusinessMetricLabel", {"value": serializers.CharField()}, many=True
            ),
            **vantage_errors(400, 404),
        },
    )
    def get(self, request, business_metric_token):
        paginator = self.checked_paginator(default_limit=1000)
        metric = self.metric(business_metric_token)
        page = paginator.paginate_queryset(selectors.labels_of(metric), request, self)
        return paginator.get_paginated_response([{"value": label} for label in page])


# --------------------------------------------------------------------------- unit costs


def unit_cost_body(row: selectors.UnitCost) -> dict:
    return {
        "business_metric_token": row.metric.token,
        "business_metric_title": row.metric.title,
        "calculation_type": row.calculation_type,
        "unit_cost_amount": money_text(row.amount),
        "business_metric_amount": money_text(row.business_metric_amount),
        "scale": float(row.scale),
        "date": row.date.isoformat(),
        "cost": money_text(row.cost),
        "currency": row.currency,
    }


class UnitCostQuery:
    """The report, dates and bin of a unit-cost request (query string or JSON body)."""

    def unit_cost_query(self, given, today: datetime.date) -> dict:
        token = given.get("cost_report_token")
        if not token:
            raise ServiceError("is required.", field="cost_report_token", code="required")
        report = self.by_token(self.cost_reports(), token, "Cost report", "cost_report_token")
        start = (
            services.parse_date(given["start_date"], "start_date")
            if given.get("start_date")
            else None
        )
        end = services.parse_date(given["end_date"], "end_date") if given.get("end_date") else None
        # A bound not given is the report's own.
        default_start, default_end = report_services.report_dates(report, today)
        start, end = start or default_start, end or default_end
        report_costs.check_range(start, end)
        date_bin = given.get("date_bin") or (
            report.date_bin if report.date_bin in report_costs.QUERY_BINS else "day"
        )
        if date_bin not in report_costs.QUERY_BINS:
            raise ServiceError(
                "must be day, week, month or quarter (cost rows are daily: no hourly costs).",
                field="date_bin",
            )
        return {"report": report, "start": start, "end": end, "date_bin": date_bin}


class UnitCostsView(UnitCostQuery, BusinessView):
    results_key = "unit_costs"

    @extend_schema(
        operation_id="getUnitCosts",
        tags=["UnitCosts"],
        parameters=[
            *PAGING,
            OpenApiParameter(
                "cost_report_token", {"type": "string", "minLength": 1}, required=True
            ),
            OpenApiParameter("start_date", OpenApiTypes.DATE, description="The report's default."),
            OpenApiParameter("end_date", OpenApiTypes.DATE, description="The report's default."),
            OpenApiParameter("date_bin", str, enum=["day", "week", "month", "quarter"]),
            OpenApiParameter("order", str, enum=["asc", "desc"]),
        ],
        responses={200: UnitCostResponse, **vantage_errors(400, 404)},
    )
    def get(self, request):
        query = request.query_params
        order = query.get("order") or "desc"
        if order not in ("asc", "desc"):
            raise ServiceError("must be asc or desc.", field="order")
        paginator = self.checked_paginator()
        today = timezone.now().date()
        chosen = self.unit_cost_query(query, today)
        for attachment in chosen["report"].business_metric_attachments.select_related("metric"):
            services.live_metric_bring_up_to_date(attachment.metric, chosen["start"], chosen["end"])
        rows = selectors.unit_costs(
            chosen["report"],
            start=chosen["start"],
            end=chosen["end"],
            date_bin=chosen["date_bin"],
            today=today,
        )
        if order == "desc":
            rows.sort(key=lambda row: row.date, reverse=True)
        page = paginator.paginate_queryset(rows, request, self)
        return paginator.get_paginated_response([unit_cost_body(row) for row in page])


@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(report_costs.QUERY_BINS)})$", "example": "month"}
)
class DateBinField(serializers.CharField):
    """A unit-cost bin, documented as a pattern: an enum would be named ``DateBinEnum`` like
    reports' bins (which include ``hour``) and collide with it."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in report_costs.QUERY_BINS:
            raise serializers.ValidationError(
                f"must be one of {', '.join(report_costs.QUERY_BINS)} (cost rows are daily)."
            )
        return value


class UnitCostsExportSerializer(serializers.Serializer):
    cost_report_token = serializers.CharField()
    workspace_token = serializers.CharField(required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    date_bin = DateBinField(required=False)


class UnitCostsExportView(UnitCostQuery, BusinessView):
    """Queue an export of ``/v2/unit_costs`` (every row) as CSV and Parquet; it is read back
    through ``/v2/data_exports/{token}`` like every other export."""

    @extend_schema(
        operation_id="createUnitCostsExport",
        tags=["UnitCosts"],
        request=UnitCostsExportSerializer,
        responses={202: DataExportResponse, **vantage_errors(400, 403, 404, 415, 422)},
    )
    def post(self, request):
        body = UnitCostsExportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("workspace_token"):
            self.workspace(data["workspace_token"])
        chosen = self.unit_cost_query(data, timezone.now().date())
        export = services.unit_costs_export_create(
            self.get_organization(),
            report=chosen["report"],
            start=chosen["start"],
            end=chosen["end"],
            date_bin=chosen["date_bin"],
            created_by=request.user,
        )
        return Response(
            data_export_body(request, export),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": export_location(request, export)},
        )
