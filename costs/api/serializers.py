"""Wire formats of the cost-data API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..connectors.sync import MAX_EVERY_MINUTES
from ..models import ImportJob, Integration, Provider
from ..selectors import METRICS
from .sources import SourceSerializer, SyncStateSerializer, source_of


class IntegrationSerializer(serializers.ModelSerializer):
    provider = serializers.ChoiceField(choices=Provider.choices)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source = SourceSerializer(required=False, allow_null=True)
    sync_every_minutes = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_EVERY_MINUTES, help_text="Default 60."
    )
    sync = serializers.SerializerMethodField()
    # null in an answer while the integration has no source (read by core.schema.AutoSchema).
    nullable_in_response = ("sync_every_minutes",)

    class Meta:
        model = Integration
        fields = ["id", "provider", "name", "created_at", "source", "sync_every_minutes", "sync"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, integration):
        data = super().to_representation(integration)
        data["sync_every_minutes"] = getattr(source_of(integration), "sync_every_minutes", None)
        return data

    @extend_schema_field(SyncStateSerializer(allow_null=True))
    def get_sync(self, integration):
        source = source_of(integration)
        return SyncStateSerializer(source).data if source else None


class IntegrationChangeSerializer(IntegrationSerializer):
    """What a PATCH may change: the source and its schedule (provider and name are fixed)."""

    provider = None
    name = None
    sync = None

    class Meta(IntegrationSerializer.Meta):
        fields = ["source", "sync_every_minutes"]


class ImportJobSerializer(serializers.ModelSerializer):
    integration_id = serializers.UUIDField(read_only=True)
    billing_periods = serializers.ListField(child=serializers.DateField(), read_only=True)
    months = serializers.ListField(child=serializers.DateField(), read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "integration_id",
            "filename",
            "source",
            "status",
            "rows_read",
            "rows_written",
            "rows_replaced",
            "error",
            "billing_periods",
            "months",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> float:
        """Share of the file read so far, 0 to 1 (live while the job runs)."""
        return self.context["progress"](job)["fraction"]


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A FOCUS 1.2/1.3 cost-and-usage export: CSV, gzip CSV or Parquet."
    )


def _amount() -> serializers.DecimalField:
    # Money leaves every API as a JSON number rounded to 6 decimals (SPEC §5).
    return serializers.DecimalField(max_digits=34, decimal_places=6, coerce_to_string=False)


class CostRowAmountsSerializer(serializers.Serializer):
    period = serializers.DateField()
    group = serializers.CharField()
    billed_cost = _amount()
    effective_cost = _amount()
    list_cost = _amount()
    contracted_cost = _amount()


class CostSeriesItemSerializer(serializers.Serializer):
    group = serializers.CharField()
    total = _amount()
    values = serializers.ListField(child=_amount())


class CostGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    billed_cost = _amount()
    effective_cost = _amount()
    list_cost = _amount()
    contracted_cost = _amount()


class CostTotalsSerializer(serializers.Serializer):
    billed_cost = _amount()
    effective_cost = _amount()
    list_cost = _amount()
    contracted_cost = _amount()


class CostSeriesSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    granularity = serializers.ChoiceField(choices=["day", "month"])
    metric = serializers.ChoiceField(choices=list(METRICS))
    start = serializers.DateField()
    end = serializers.DateField()
    currencies = serializers.ListField(child=serializers.CharField())
    totals = CostTotalsSerializer()
    periods = serializers.ListField(child=serializers.DateField())
    series = CostSeriesItemSerializer(many=True)
    groups = CostGroupSerializer(many=True)
    rows = CostRowAmountsSerializer(many=True)
