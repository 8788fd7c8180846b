"""The API of an integration's source: its wire shape (secrets write-only), sync now, test.

``POST/PATCH /api/v1/integrations`` take ``source`` and ``sync_every_minutes`` through
``SourceSerializer``; ``/sync`` queues the new deliveries' import jobs (202), ``/test`` lists
what a sync would import. A source that cannot be read is a 400 naming the cause.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ServiceError
from core.openapi import errors
from organizations.tenancy import OrganizationScopedMixin

from ..connectors import sync
from ..models import Integration, IntegrationSource


class SourceSerializer(serializers.Serializer):
    """Where exports are pulled from. Secrets are accepted and always read back as null."""

    type = serializers.ChoiceField(choices=IntegrationSource.Type.choices)
    bucket = serializers.CharField(max_length=255, required=False, allow_blank=True)
    prefix = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    region = serializers.CharField(max_length=64, required=False, allow_blank=True)
    endpoint_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, allow_null=True
    )
    access_key_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    secret_access_key = serializers.CharField(
        max_length=256, required=False, allow_blank=True, allow_null=True
    )
    role_arn = serializers.CharField(max_length=2048, required=False, allow_blank=True)
    account_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    container = serializers.CharField(max_length=63, required=False, allow_blank=True)
    connection_string = serializers.CharField(
        max_length=2048, required=False, allow_blank=True, allow_null=True
    )
    account_key = serializers.CharField(
        max_length=256, required=False, allow_blank=True, allow_null=True
    )
    sas_token = serializers.CharField(
        max_length=2048, required=False, allow_blank=True, allow_null=True
    )
    service_account_json = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, allow_null=True
    )

    def to_representation(self, source: IntegrationSource) -> dict:
        plain, secret = sync.FIELDS.get(source.type, ([], []))
        data = {"type": source.type}
        data.update({name: source.settings.get(name) or None for name in plain})
        data.update(dict.fromkeys(secret))
        return data


class SyncStateSerializer(serializers.Serializer):
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_imported_delivery = serializers.CharField(allow_blank=True)
    next_run_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)


def source_of(integration: Integration) -> IntegrationSource | None:
    try:
        return integration.source
    except IntegrationSource.DoesNotExist:
        return None


def source_save_from_wire(integration: Integration, validated: dict) -> None:
    """Apply ``source``/``sync_every_minutes`` of a validated POST or PATCH body."""
    if "source" not in validated and "sync_every_minutes" not in validated:
        return
    current = source_of(integration)
    if "source" in validated:
        data = validated["source"]
        if data is not None:
            data = {name: value for name, value in data.items() if value is not None}
    elif current is not None:
        data = {"type": current.type, **current.settings}
    else:
        raise ServiceError("Set a source before its sync_every_minutes.", field="source")
    sync.source_save(integration, data, sync_every_minutes=validated.get("sync_every_minutes"))
    integration.refresh_from_db()


class IntegrationSourceMixin(OrganizationScopedMixin):
    def get_integration(self) -> Integration:
        return get_object_or_404(
            self.scope_queryset(Integration.objects.all()), pk=self.kwargs["integration_id"]
        )


class DeliverySerializer(serializers.Serializer):
    """One delivery a sync would import: an export's billing period and its data files."""

    key = serializers.CharField()
    billing_period = serializers.CharField()
    delivery = serializers.CharField(help_text="The cloud's execution (delivery) id.")
    fingerprint = serializers.CharField()
    bytes = serializers.IntegerField()
    files = serializers.ListField(child=serializers.DictField())
    problems = serializers.ListField(child=serializers.CharField(), required=False)


class IntegrationSyncView(IntegrationSourceMixin, APIView):
    @extend_schema(
        tags=["Integrations"],
        request=None,
        responses={
            202: inline_serializer(
                "SourceSyncResult",
                {"job_ids": serializers.ListField(child=serializers.UUIDField())},
            ),
            **errors(400, 403, 404),
        },
        description=(
            "Sync now: queue one import job per new or changed delivery of the integration's "
            "source (each replaces its billing period). 400 when the source cannot be read; "
            "the reason is also kept as the sync's `last_error`."
        ),
    )
    def post(self, request, *args, **kwargs):
        jobs = sync.source_sync(self.get_integration())
        return Response({"job_ids": [str(job.pk) for job in jobs]}, status=status.HTTP_202_ACCEPTED)


class IntegrationTestView(IntegrationSourceMixin, APIView):
    @extend_schema(
        tags=["Integrations"],
        request=None,
        responses={
            200: inline_serializer(
                "SourceTestResult",
                {
                    "new": DeliverySerializer(many=True),
                    "unchanged": DeliverySerializer(many=True),
                    "incomplete": DeliverySerializer(many=True),
                },
            ),
            **errors(400, 403, 404),
        },
        description=(
            "Test the source's connection: the deliveries a sync would import (`new`), those "
            "already imported (`unchanged`) and those whose manifest lists missing files."
        ),
    )
    def post(self, request, *args, **kwargs):
        return Response(sync.source_test(self.get_integration()))
