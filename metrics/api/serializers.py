"""Wire formats of the metrics API (Meteroid's ``/api/v1``): shapes and types only.

Business rules (code format and uniqueness, catalogue references, matrix forms, conversion
factor) are checked by ``metrics.services`` so that the pages and the admin share them.
"""

from decimal import Decimal

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import ISO_8601, serializers

from core.params import UTC_TIMESTAMP_FORMAT

from ..models import (
    AggregationType,
    BillableMetric,
    Customer,
    Product,
    ProductFamily,
    Rounding,
    UsageEvent,
)


def json_number(value: Decimal | None):
    """A Decimal as the JSON number a client expects: ``123`` rather than ``123.000000000000``."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


MONEY_DECIMALS = 6


def json_money(value: Decimal | None):
    """Money as a JSON number rounded to 6 decimals, as every Costline API shows it."""
    if value is None:
        return None
    return json_number(round(value, MONEY_DECIMALS))


class RejectReadOnlyMixin:
    """Fields the server sets are a 400 naming them in a write, never silently dropped."""

    read_only_input: dict[str, str] = {
        "id": "This field is read-only.",
        "created_at": "This field is read-only.",
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            sent = {
                name: [message] for name, message in self.read_only_input.items() if name in data
            }
            if sent:
                raise serializers.ValidationError(sent)
        return super().to_internal_value(data)


class ProductFamilySerializer(RejectReadOnlyMixin, serializers.ModelSerializer):
    created_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT, read_only=True)

    class Meta:
        model = ProductFamily
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["id"]
        extra_kwargs = {"description": {"required": False, "allow_blank": True}}


class ProductSerializer(RejectReadOnlyMixin, serializers.ModelSerializer):
    product_family_id = serializers.CharField(source="family_id")
    created_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "product_family_id", "created_at"]
        read_only_fields = ["id"]
        extra_kwargs = {"description": {"required": False, "allow_blank": True}}


class ProductUpdateSerializer(RejectReadOnlyMixin, serializers.Serializer):
    read_only_input = {
        **RejectReadOnlyMixin.read_only_input,
        "product_family_id": "A product stays in its family.",
    }
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CustomerSerializer(RejectReadOnlyMixin, serializers.ModelSerializer):
    created_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "external_id", "email", "created_at"]
        read_only_fields = ["id"]
        # Uniqueness of external_id is the service's rule (a 409), not a serializer check.
        validators: list = []
        extra_kwargs = {"email": {"required": False, "allow_blank": True}}


class DimensionSerializer(serializers.Serializer):
    key = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class DoubleMatrixSerializer(serializers.Serializer):
    dimension1 = DimensionSerializer()
    dimension2 = DimensionSerializer()


class LinkedMatrixSerializer(serializers.Serializer):
    dimension_key = serializers.CharField()
    linked_dimension_key = serializers.CharField()
    values = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="SegmentationMatrix",
        serializers=[DimensionSerializer, DoubleMatrixSerializer, LinkedMatrixSerializer],
        resource_type_field_name=None,
    )
)
class SegmentationMatrixField(serializers.JSONField):
    """Checked in depth by ``metrics.segmentation.normalize``."""


class UnitConversionSerializer(serializers.Serializer):
    factor = serializers.DecimalField(max_digits=30, decimal_places=12, coerce_to_string=False)
    rounding = serializers.ChoiceField(choices=Rounding.choices, required=False)


class MetricWriteSerializer(RejectReadOnlyMixin, serializers.Serializer):
    """The body of ``POST /api/v1/metrics`` (and, every field optional, of ``PATCH``).

    ``id``, ``created_at`` and ``archived_at`` are in the seed's response only: sent, they are a
    400 naming the field (archiving has its own endpoints).
    """

    read_only_input = {
        **RejectReadOnlyMixin.read_only_input,
        "archived_at": "This field is read-only; use POST /api/v1/metrics/{id}/archive or "
        "/unarchive.",
    }

    aggregation_type = serializers.ChoiceField(choices=AggregationType.choices)
    code = serializers.CharField(max_length=64, trim_whitespace=False)
    name = serializers.CharField(max_length=255)
    product_family_id = serializers.CharField()
    aggregation_key = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    product_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    segmentation_matrix = SegmentationMatrixField(required=False, allow_null=True)
    unit_conversion = UnitConversionSerializer(required=False, allow_null=True)
    usage_group_key = serializers.CharField(required=False, allow_null=True, allow_blank=True)

    def validate_unit_conversion(self, value):
        return dict(value) if value is not None else None


class MetricSerializer(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT)
    archived_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT, allow_null=True)
    product_family_id = serializers.CharField()
    product_id = serializers.CharField(allow_null=True)
    segmentation_matrix = SegmentationMatrixField(allow_null=True)
    unit_conversion = serializers.SerializerMethodField()

    class Meta:
        model = BillableMetric
        fields = [
            "aggregation_type",
            "code",
            "created_at",
            "id",
            "name",
            "product_family_id",
            "aggregation_key",
            "archived_at",
            "description",
            "product_id",
            "segmentation_matrix",
            "unit_conversion",
            "usage_group_key",
        ]

    def get_unit_conversion(self, metric) -> UnitConversionSerializer(allow_null=True):
        if metric.unit_conversion_factor is None:
            return None
        return {
            "factor": json_number(metric.unit_conversion_factor),
            "rounding": metric.unit_conversion_rounding or Rounding.NONE,
        }


class EventInSerializer(serializers.Serializer):
    """One event of an ingest request (documentation; each event is checked by the service)."""

    id = serializers.CharField(help_text="Your id of the event; a replayed id is not counted.")
    code = serializers.CharField(help_text="The code of the billable metric(s) it feeds.")
    customer_id = serializers.CharField(help_text="Our cus_… id or your external_id.")
    timestamp = serializers.DateTimeField(help_text="ISO 8601; without offset means UTC.")
    properties = serializers.DictField(required=False)


class IngestRequestSerializer(serializers.Serializer):
    events = serializers.ListField(child=EventInSerializer(), max_length=500)


class IngestEnvelopeSerializer(serializers.Serializer):
    """What is checked before any event is looked at: a list of at most 500."""

    events = serializers.ListField(child=serializers.JSONField(), max_length=500, allow_empty=True)


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.CharField(allow_null=True)
    reason = serializers.ChoiceField(
        choices=[
            "invalid_event",
            "invalid_id",
            "invalid_code",
            "unknown_customer",
            "bad_timestamp",
            "too_far_in_future",
            "invalid_properties",
            "missing_property",
            "invalid_property",
            "value_out_of_range",
        ]
    )
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class IngestResponseSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(help_text="Events whose id was already stored.")
    rejected = RejectedEventSerializer(many=True)


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="event_id")
    customer_id = serializers.CharField()
    customer_external_id = serializers.CharField(source="customer.external_id")
    timestamp = serializers.DateTimeField()
    ingested_at = serializers.DateTimeField()

    class Meta:
        model = UsageEvent
        fields = [
            "id",
            "code",
            "customer_id",
            "customer_external_id",
            "timestamp",
            "properties",
            "ingested_at",
        ]


# The usage query and response carry ``from`` and ``to``, Python keywords: built with ``type``.
_DATE_FORMATS = [ISO_8601, "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S"]
UsageQuerySerializer = type(
    "UsageQuerySerializer",
    (serializers.Serializer,),
    {
        "customer_id": serializers.CharField(
            required=False, help_text="cus_… id or external_id; all customers when absent"
        ),
        "window": serializers.ChoiceField(choices=["day", "month"], default="day"),
        "from": serializers.DateField(
            required=False,
            input_formats=_DATE_FORMATS,
            help_text="First day (UTC), inclusive; default: first day of the current month",
        ),
        "to": serializers.DateField(
            required=False,
            input_formats=_DATE_FORMATS,
            help_text="Last day (UTC), inclusive; default: today",
        ),
        "__doc__": "Query of the usage endpoint; a date-time is accepted for a date.",
    },
)


class UsageLineSerializer(serializers.Serializer):
    dimensions = serializers.DictField(
        child=serializers.CharField(), allow_null=True, help_text="null for the other bucket"
    )
    other = serializers.BooleanField(help_text="Events outside the segmentation matrix.")
    usage_group = serializers.CharField(allow_null=True)
    value = serializers.FloatField()


class UsagePeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    total = serializers.FloatField()
    lines = UsageLineSerializer(many=True)


class CustomerUsageSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    external_id = serializers.CharField()
    customer_name = serializers.CharField()
    periods = UsagePeriodSerializer(many=True)


UsageResponseSerializer = type(
    "UsageResponseSerializer",
    (serializers.Serializer,),
    {
        "metric_id": serializers.CharField(),
        "code": serializers.CharField(),
        "aggregation_type": serializers.CharField(),
        "window": serializers.CharField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "unit_conversion": UnitConversionSerializer(allow_null=True),
        "count": serializers.IntegerField(help_text="Customers in the answer, all pages"),
        "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "total_pages": serializers.IntegerField(),
        "results": CustomerUsageSerializer(many=True),
    },
)
