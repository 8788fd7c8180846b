"""The cost-data API: integrations, their FOCUS imports, and the cost explorer's query.

Views parse the wire format and call ``costs.services`` / ``costs.selectors``; tenancy comes from
``OrganizationScopedMixin`` (another organization's integration is a 404) and permissions from
the project defaults (read-only tokens get 403 on writes). Errors use DRF's default shape.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors
from core.pagination import PageNumberPagination
from organizations.tenancy import OrganizationScopedMixin

from .. import selectors, services
from ..filters import CostRowFilter, IntegrationFilter
from ..forms import CostQueryForm
from ..models import ImportJob, Integration
from . import serializers as wire
from . import sources


class CostsApiMixin(OrganizationScopedMixin):
    pagination_class = PageNumberPagination


@extend_schema_view(
    get=extend_schema(
        tags=["Integrations"],
        responses={200: wire.IntegrationSerializer(many=True), **errors(400)},
    )
)
class IntegrationListView(CostsApiMixin, generics.ListCreateAPIView):
    queryset = Integration.objects.select_related("source")
    serializer_class = wire.IntegrationSerializer
    filterset_class = IntegrationFilter

    @extend_schema(
        tags=["Integrations"],
        responses={201: wire.IntegrationSerializer, **errors(400, 403)},
        description="Create an integration: one billing source (provider and a name).",
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            integration = services.integration_create(
                self.get_organization(),
                serializer.validated_data["provider"],
                serializer.validated_data.get("name", ""),
            )
            sources.source_save_from_wire(integration, serializer.validated_data)
        return Response(self.get_serializer(integration).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=["Integrations"], responses={200: wire.IntegrationSerializer, **errors(404)}
    )
)
class IntegrationDetailView(CostsApiMixin, generics.RetrieveAPIView):
    queryset = Integration.objects.select_related("source")
    serializer_class = wire.IntegrationSerializer

    @extend_schema(
        tags=["Integrations"],
        request=wire.IntegrationChangeSerializer,
        responses={200: wire.IntegrationSerializer, **errors(400, 403, 404)},
        description=(
            "Set, change or remove (`null`) the integration's `source`, or its "
            "`sync_every_minutes`. Secrets left out keep their saved value."
        ),
    )
    def patch(self, request, *args, **kwargs):
        integration = self.get_object()
        serializer = self.get_serializer(integration, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fixed = sorted({"provider", "name"} & set(serializer.validated_data))
        if fixed:
            raise exceptions.ValidationError(
                {
                    name: ["Cannot be changed; only source and sync_every_minutes can."]
                    for name in fixed
                }
            )
        sources.source_save_from_wire(integration, serializer.validated_data)
        return Response(self.get_serializer(integration).data)


class ImportJobMixin(CostsApiMixin):
    queryset = ImportJob.objects.select_related("integration")
    serializer_class = wire.ImportJobSerializer

    def get_integration(self) -> Integration:
        return get_object_or_404(
            self.scope_queryset(Integration.objects.all()), pk=self.kwargs["integration_id"]
        )

    def get_queryset(self):
        return super().get_queryset().filter(integration_id=self.kwargs.get("integration_id"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "progress": services.import_job_progress}


class ImportJobListView(ImportJobMixin, generics.ListCreateAPIView):
    @extend_schema(
        tags=["Integrations"],
        responses={200: wire.ImportJobSerializer(many=True), **errors(400, 404)},
        description="The integration's import jobs, newest first.",
    )
    def get(self, request, *args, **kwargs):
        self.get_integration()
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["Integrations"],
        request={"multipart/form-data": wire.ImportUploadSerializer},
        responses={202: wire.ImportJobSerializer, **errors(400, 403, 404, 413)},
        description=(
            "Upload a FOCUS export (multipart field `file`). The import runs in the worker and "
            "replaces the integration's rows of the billing periods the file covers; poll the "
            "job for its status, counts and error (file, line, column)."
        ),
    )
    def post(self, request, *args, **kwargs):
        integration = self.get_integration()
        upload = wire.ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        job = services.import_job_create(
            integration,
            upload=upload.validated_data["file"],
            source=ImportJob.Source.API,
            created_by=request.user,
        )
        services.import_job_enqueue(job)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        tags=["Integrations"], responses={200: wire.ImportJobSerializer, **errors(404)}
    )
)
class ImportJobDetailView(ImportJobMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "job_id"


def _cost_parameters() -> list[OpenApiParameter]:
    parameters = [
        OpenApiParameter(
            name,
            str,
            description=str(field.help_text or field.label or name),
            enum=[value for value, _ in field.choices] if hasattr(field, "choices") else None,
        )
        for name, field in CostQueryForm.base_fields.items()
    ]
    for name, definition in CostRowFilter.base_filters.items():
        if name in ("start", "end"):
            parameters.append(
                OpenApiParameter(name, OpenApiTypes.DATE, description=f"{definition.label} (day).")
            )
        else:
            parameters.append(
                OpenApiParameter(
                    name,
                    {"type": "array", "items": {"type": "string"}},
                    explode=True,
                    description=f"{definition.label}: any of the values (repeat the parameter).",
                )
            )
    return parameters


class CostsView(CostsApiMixin, APIView):
    """Costs over time, grouped by a dimension: the cost explorer's query."""

    @extend_schema(
        tags=["Costs"],
        parameters=_cost_parameters(),
        responses={200: wire.CostSeriesSerializer, **errors(400)},
        description=(
            "Sums of billed, effective, list and contracted cost per day or month and per group "
            "(`group_by`: a dimension or `tag:<key>`), over the rows matching the filters. "
            "Without `start`/`end`: from the start of the month two months ago through today."
        ),
    )
    def get(self, request, *args, **kwargs):
        filterset = CostRowFilter(request.query_params)
        query = CostQueryForm(request.query_params)
        problems = {}
        if not filterset.is_valid():
            problems.update(filterset.errors)
        if not query.is_valid():
            problems.update(query.errors)
        if problems:
            raise exceptions.ValidationError(
                {
                    name: [str(message) for message in messages]
                    for name, messages in problems.items()
                }
            )
        options = query.cleaned_data
        start, end = selectors.cost_window(
            filterset.form.cleaned_data.get("start"),
            filterset.form.cleaned_data.get("end"),
            options["granularity"],
            timezone.now().date(),
        )
        series = selectors.cost_series(
            filterset.cost_filter(self.get_organization()),
            group_by=options["group_by"],
            granularity=options["granularity"],
            metric=options["metric"],
            limit=options["limit"],
            start=start,
            end=end,
        )
        return Response(wire.CostSeriesSerializer(series).data)
