"""The metrics API (Meteroid's ``/api/v1``): catalogue, billable metrics, events and usage.

Views parse the wire format, call a service or selector and serialize; tenancy comes from
``OrganizationScopedMixin`` and permissions from the project defaults (read-only tokens get 403
on writes). Errors use DRF's default shape: ``{"detail": ...}`` or ``{"field": ["message"]}``.
"""

from __future__ import annotations

import datetime

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError
from core.openapi import errors
from core.pagination import PageNumberPagination
from organizations.tenancy import OrganizationScopedMixin

from .. import selectors, services, unit_costs
from ..filters import CustomerFilter, EventFilter, MetricFilter, ProductFamilyFilter, ProductFilter
from ..models import BillableMetric, Customer, Product, ProductFamily, UsageEvent
from . import serializers as wire


class MetricsApiMixin(OrganizationScopedMixin):
    pagination_class = PageNumberPagination
    not_found_message = "Not found."

    def get_object(self):
        # Django says "No BillableMetric matches the given query."; the API says it in its words.
        try:
            return super().get_object()
        except Http404:
            raise NotFoundError(self.not_found_message) from None


# ---------------------------------------------------------------------------------------------
# Catalogue


@extend_schema_view(
    get=extend_schema(
        tags=["Product families"],
        responses={200: wire.ProductFamilySerializer(many=True), **errors(400)},
    )
)
class ProductFamilyListView(MetricsApiMixin, generics.ListCreateAPIView):
    queryset = ProductFamily.objects.all()
    serializer_class = wire.ProductFamilySerializer
    filterset_class = ProductFamilyFilter

    @extend_schema(
        tags=["Product families"], responses={201: wire.ProductFamilySerializer, **errors(400, 403)}
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = services.product_family_create(
            self.get_organization(), **serializer.validated_data
        )
        return Response(self.get_serializer(family).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=["Product families"], responses={200: wire.ProductFamilySerializer, **errors(404)}
    )
)
class ProductFamilyDetailView(MetricsApiMixin, generics.RetrieveUpdateAPIView):
    not_found_message = "Product family not found."
    queryset = ProductFamily.objects.all()
    serializer_class = wire.ProductFamilySerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        tags=["Product families"],
        responses={200: wire.ProductFamilySerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, *args, **kwargs):
        family = self.get_object()
        serializer = self.get_serializer(family, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        family = services.product_family_update(family, **serializer.validated_data)
        return Response(self.get_serializer(family).data)


@extend_schema_view(
    get=extend_schema(
        tags=["Products"], responses={200: wire.ProductSerializer(many=True), **errors(400)}
    )
)
class ProductListView(MetricsApiMixin, generics.ListCreateAPIView):
    queryset = Product.objects.select_related("family")
    serializer_class = wire.ProductSerializer
    filterset_class = ProductFilter

    @extend_schema(tags=["Products"], responses={201: wire.ProductSerializer, **errors(400, 403)})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = services.product_create(
            self.get_organization(),
            name=data["name"],
            product_family_id=data["family_id"],
            description=data.get("description", ""),
        )
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["Products"], responses={200: wire.ProductSerializer, **errors(404)})
)
class ProductDetailView(MetricsApiMixin, generics.RetrieveUpdateAPIView):
    not_found_message = "Product not found."
    queryset = Product.objects.select_related("family")
    serializer_class = wire.ProductSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        tags=["Products"],
        request=wire.ProductUpdateSerializer,
        responses={200: wire.ProductSerializer, **errors(400, 403, 404)},
        description="Name and description; a product stays in its family.",
    )
    def patch(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = wire.ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product, **serializer.validated_data)
        return Response(self.get_serializer(product).data)


@extend_schema_view(
    get=extend_schema(
        tags=["Customers"], responses={200: wire.CustomerSerializer(many=True), **errors(400)}
    )
)
class CustomerListView(MetricsApiMixin, generics.ListCreateAPIView):
    queryset = Customer.objects.all()
    serializer_class = wire.CustomerSerializer
    filterset_class = CustomerFilter

    @extend_schema(
        tags=["Customers"], responses={201: wire.CustomerSerializer, **errors(400, 403, 409)}
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(self.get_organization(), **serializer.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["Customers"], responses={200: wire.CustomerSerializer, **errors(404)})
)
class CustomerDetailView(MetricsApiMixin, generics.RetrieveUpdateAPIView):
    not_found_message = "Customer not found."
    queryset = Customer.objects.all()
    serializer_class = wire.CustomerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        tags=["Customers"], responses={200: wire.CustomerSerializer, **errors(400, 403, 404, 409)}
    )
    def patch(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_update(customer, **serializer.validated_data)
        return Response(self.get_serializer(customer).data)


# ---------------------------------------------------------------------------------------------
# Billable metrics


@extend_schema_view(
    get=extend_schema(
        tags=["Billable metrics"],
        operation_id="listBillableMetrics",
        parameters=[
            OpenApiParameter(
                "archived",
                str,
                description="true: archived metrics only; false: active ones only; "
                "any other value: both.",
            )
        ],
        responses={200: wire.MetricSerializer(many=True), **errors(400)},
    )
)
class MetricListView(MetricsApiMixin, generics.ListCreateAPIView):
    queryset = BillableMetric.objects.select_related("product_family", "product")
    serializer_class = wire.MetricSerializer
    filterset_class = MetricFilter

    @extend_schema(
        tags=["Billable metrics"],
        operation_id="createBillableMetric",
        summary="Create a billable metric",
        request=wire.MetricWriteSerializer,
        responses={201: wire.MetricSerializer, **errors(400, 403)},
    )
    def post(self, request, *args, **kwargs):
        serializer = wire.MetricWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        metric = services.metric_create(self.get_organization(), **serializer.validated_data)
        return Response(wire.MetricSerializer(metric).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=["Billable metrics"],
        operation_id="getBillableMetric",
        responses={200: wire.MetricSerializer, **errors(404)},
    )
)
class MetricDetailView(MetricsApiMixin, generics.RetrieveUpdateAPIView):
    not_found_message = "Billable metric not found."
    queryset = BillableMetric.objects.select_related("product_family", "product")
    serializer_class = wire.MetricSerializer
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        tags=["Billable metrics"],
        operation_id="updateBillableMetric",
        request=wire.MetricWriteSerializer,
        responses={200: wire.MetricSerializer, **errors(400, 403, 404, 409)},
        description=(
            "Name, description and catalogue links may always change; the definition (code, "
            "aggregation, matrix, unit conversion, usage group) only while no usage event "
            "exists for the metric's code (else 409)."
        ),
    )
    def patch(self, request, *args, **kwargs):
        metric = self.get_object()
        serializer = wire.MetricWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        metric = services.metric_update(metric, **serializer.validated_data)
        return Response(wire.MetricSerializer(metric).data)


class MetricArchiveView(MetricsApiMixin, generics.GenericAPIView):
    not_found_message = "Billable metric not found."
    queryset = BillableMetric.objects.all()
    serializer_class = wire.MetricSerializer
    archive = True

    @extend_schema(
        tags=["Billable metrics"],
        request=None,
        responses={200: wire.MetricSerializer, **errors(403, 404, 409)},
        description="Archive (idempotent). Unarchiving fails with 409 when another active "
        "metric has taken the code meanwhile.",
    )
    def post(self, request, *args, **kwargs):
        metric = self.get_object()
        if self.archive:
            metric = services.metric_archive(metric)
        else:
            metric = services.metric_unarchive(metric)
        return Response(wire.MetricSerializer(metric).data)


def _default_range(data: dict) -> tuple[datetime.date, datetime.date]:
    today = timezone.now().date()
    return data.get("from") or today.replace(day=1), data.get("to") or today


def _wire_usage(results: list[dict]) -> list[dict]:
    """Decimals become JSON numbers only here, at the edge."""
    for customer in results:
        for period in customer["periods"]:
            period["total"] = wire.json_number(period["total"])
            for line in period["lines"]:
                line["value"] = wire.json_number(line["value"])
    return results


class MetricUsageView(MetricsApiMixin, generics.GenericAPIView):
    not_found_message = "Billable metric not found."
    queryset = BillableMetric.objects.all()
    serializer_class = wire.UsageResponseSerializer

    @extend_schema(
        tags=["Billable metrics"],
        operation_id="getBillableMetricUsage",
        parameters=[wire.UsageQuerySerializer],
        responses={200: wire.UsageResponseSerializer, **errors(400, 404)},
        description=(
            "Usage per window (UTC day or calendar month), per segmentation combination and "
            "usage group, after unit conversion. With customer_id: that customer; without: "
            "every customer with usage in the range, paginated (page, page_size)."
        ),
    )
    def get(self, request, *args, **kwargs):
        metric = self.get_object()
        query = wire.UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = _default_range(query.validated_data)
        window = query.validated_data["window"]
        selectors.periods(window, start, end)  # reject a bad range before any work
        reference = query.validated_data.get("customer_id")
        if reference:
            customer = selectors.customer_by_reference(self.get_organization(), reference)
            services.usage_refresh(metric, start, end, customer)
            customers = selectors.customers(self.get_organization()).filter(pk=customer.pk)
        else:
            services.usage_refresh(metric, start, end)
            customers = selectors.customers_with_usage(metric, start, end)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(customers, request, view=self)
        results = selectors.metric_usage(
            metric, window=window, start=start, end=end, customers=page
        )
        response = paginator.get_paginated_response(_wire_usage(results))
        unit_conversion = wire.MetricSerializer(metric).data["unit_conversion"]
        response.data = {
            "metric_id": metric.pk,
            "code": metric.code,
            "aggregation_type": metric.aggregation_type,
            "window": window,
            "from": start,
            "to": end,
            "unit_conversion": unit_conversion,
            **response.data,
        }
        return response


# ---------------------------------------------------------------------------------------------
# Events


class EventIngestView(MetricsApiMixin, APIView):
    @extend_schema(
        tags=["Events"],
        operation_id="ingestEvents",
        request=wire.IngestRequestSerializer,
        responses={200: wire.IngestResponseSerializer, **errors(400, 403)},
        description=(
            "Up to 500 events. Each invalid event is listed in `rejected` (by index, with a "
            "reason) while the valid ones are stored, all in one transaction; the answer is "
            "200 whenever the batch itself was readable. A replayed event id is acknowledged "
            "in `duplicates` and not counted again."
        ),
    )
    def post(self, request, *args, **kwargs):
        envelope = wire.IngestEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        result = services.events_ingest(self.get_organization(), request.data["events"])
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": result.rejected,
            }
        )


@extend_schema_view(
    get=extend_schema(
        tags=["Events"],
        operation_id="listEvents",
        responses={200: wire.EventSerializer(many=True), **errors(400)},
    )
)
class EventListView(MetricsApiMixin, generics.ListAPIView):
    queryset = UsageEvent.objects.select_related("customer")
    serializer_class = wire.EventSerializer
    filterset_class = EventFilter


# ---------------------------------------------------------------------------------------------
# Unit costs (beyond the seeds): a segment's cost divided by a metric's usage


class UnitCostQuerySerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="Segment uuid or fltr_sgmt_ token.")
    metric = serializers.CharField(help_text="Billable metric id (bm_…).")
    window = serializers.ChoiceField(choices=["day", "month"], default="month")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        dates = wire.UsageQuerySerializer(
            data={key: data[key] for key in ("from", "to") if key in data}
        )
        dates.is_valid(raise_exception=True)
        values.update({key: dates.validated_data.get(key) for key in ("from", "to")})
        return values


UnitCostResponse = inline_serializer(
    "UnitCosts",
    {
        "segment": serializers.CharField(),
        "metric_id": serializers.CharField(),
        "window": serializers.CharField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "points": inline_serializer(
            "UnitCostPoint",
            {
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "cost": serializers.FloatField(
                    help_text="The segment's cost over the window's days, rounded to 6 decimals."
                ),
                "usage": serializers.FloatField(help_text="After unit conversion."),
                "unit_cost": serializers.FloatField(
                    allow_null=True,
                    help_text="cost ÷ usage, rounded to 6 decimals; null when usage is 0.",
                ),
            },
            many=True,
        ),
    },
)


class UnitCostView(MetricsApiMixin, APIView):
    @extend_schema(
        tags=["Unit costs"],
        # Vantage's /v2/unit_costs owns "getUnitCosts".
        operation_id="getSegmentUnitCosts",
        parameters=[
            UnitCostQuerySerializer,
            *[
                OpenApiParameter(name, OpenApiTypes.DATE, description=f"{name} day, inclusive")
                for name in ("from", "to")
            ],
        ],
        responses={200: UnitCostResponse, **errors(400, 404)},
        description="A segment's cost (report settings applied) ÷ a metric's usage, per window.",
    )
    def get(self, request, *args, **kwargs):
        organization = self.get_organization()
        query = UnitCostQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        start, end = _default_range(data)
        selectors.periods(data["window"], start, end)
        segment = unit_costs.segment_by_reference(
            organization, self.get_workspaces(), data["segment"]
        )
        metric = selectors.metrics(organization).filter(pk=data["metric"]).first()
        if metric is None:
            raise NotFoundError("Billable metric not found.", field="metric")
        services.usage_refresh(metric, start, end)
        points = unit_costs.unit_cost_series(segment, metric, data["window"], start, end)
        return Response(
            {
                "segment": segment.token,
                "metric_id": metric.pk,
                "window": data["window"],
                "from": start,
                "to": end,
                "points": [
                    {
                        "start": point.start,
                        "end": point.end,
                        "cost": wire.json_money(point.cost),
                        "usage": wire.json_number(point.usage),
                        "unit_cost": wire.json_money(point.unit_cost),
                    }
                    for point in points
                ],
            }
        )
