"""The wire shapes of Vantage's virtual tags (``@vantage-sh/vantage-client`` 2.17.0), as DRF
serializers: request bodies are checked against them (a wrong type is a 400 naming the field)
before the services check what the values mean; responses are documented with them."""

from rest_framework import serializers

PROVIDERS = ["aws", "azure", "gcp"]


class TextField(serializers.CharField):
    """Text, and only text: a number where a name goes is refused, not read as its digits
    (nested fields have no top-level leniency to keep)."""

    default_error_messages = {"not_text": "must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class FlagField(serializers.BooleanField):
    """true or false, as JSON writes them (not 0, 1 or "yes")."""

    default_error_messages = {"not_flag": "must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_flag")
        return data


class CollapsedKeySerializer(serializers.Serializer):
    key = TextField(max_length=255)
    providers = serializers.ListField(
        child=serializers.ChoiceField(choices=PROVIDERS), required=False
    )
    filter = TextField(required=False, allow_null=True, allow_blank=True)


class LabelTransformSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["split", "format"])
    delimiter = TextField(required=False, allow_null=True)
    index = serializers.IntegerField(required=False, allow_null=True)
    template = TextField(required=False, allow_null=True)


class AggregationSerializer(serializers.Serializer):
    tag = TextField()


class CostMetricSerializer(serializers.Serializer):
    filter = TextField(allow_blank=True, allow_null=True)
    aggregation = AggregationSerializer()


class PercentageSerializer(serializers.Serializer):
    value = TextField(max_length=255)
    pct = serializers.FloatField(min_value=0, max_value=100)


class DateRangeSerializer(serializers.Serializer):
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class ValueBodySerializer(serializers.Serializer):
    """A value: a filter and one of name, percentages, business metric or cost metric."""

    filter = serializers.CharField(allow_blank=True)
    name = serializers.CharField(required=False, allow_null=True, max_length=255)
    business_metric_token = serializers.CharField(required=False, allow_null=True)
    label_key = serializers.CharField(required=False, allow_null=True)
    label_values = serializers.ListField(child=TextField(), required=False, allow_null=True)
    display_name = serializers.CharField(required=False, allow_null=True, max_length=255)
    label_transforms = LabelTransformSerializer(many=True, required=False)
    cost_metric = CostMetricSerializer(required=False, allow_null=True)
    percentages = PercentageSerializer(many=True, required=False)
    date_ranges = DateRangeSerializer(many=True, required=False)


class ValueUpdateSerializer(ValueBodySerializer):
    filter = serializers.CharField(allow_blank=True, required=False)


class ValueInListSerializer(ValueBodySerializer):
    """A value in a config's ``values``: its token kept when it is sent back."""

    token = serializers.CharField(required=False)


class ConfigCreateSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=255)
    overridable = FlagField()
    backfill_until = serializers.DateField(required=False)
    collapsed_tag_keys = CollapsedKeySerializer(many=True, required=False)
    values = ValueInListSerializer(many=True, required=False)


class ConfigUpdateSerializer(ConfigCreateSerializer):
    key = serializers.CharField(max_length=255, required=False)
    overridable = FlagField(required=False, allow_null=True)
    backfill_until = serializers.DateField(required=False, allow_null=True)


class PreviewSerializer(ConfigUpdateSerializer):
    """A create body (or, with ``token``, a change of that config) to measure, not save."""

    token = serializers.CharField(required=False)


class ValueSerializer(serializers.Serializer):
    token = serializers.CharField()
    filter = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True, required=False)
    business_metric_token = serializers.CharField(allow_null=True, required=False)
    label_key = serializers.CharField(allow_null=True, required=False)
    label_values = serializers.ListField(
        child=serializers.CharField(), allow_null=True, required=False
    )
    display_name = serializers.CharField(allow_null=True, required=False)
    cost_metric = CostMetricSerializer(required=False)
    label_transforms = LabelTransformSerializer(many=True)
    percentages = PercentageSerializer(many=True)
    date_ranges = DateRangeSerializer(many=True)


class ConfigSerializer(serializers.Serializer):
    token = serializers.CharField()
    created_by_token = serializers.CharField(allow_null=True)
    key = serializers.CharField()
    overridable = FlagField()
    backfill_until = serializers.DateField()
    collapsed_tag_keys = CollapsedKeySerializer(many=True)
    values = ValueSerializer(many=True)


class ConfigListSerializer(serializers.Serializer):
    virtual_tag_configs = ConfigSerializer(many=True)


class ProviderStatusSerializer(serializers.Serializer):
    provider = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "processing", "complete", "failed"])


class StatusSerializer(serializers.Serializer):
    token = serializers.CharField()
    processing = serializers.BooleanField()
    providers = ProviderStatusSerializer(many=True)


class MoveSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared below.
    to = serializers.CharField(allow_blank=True)
    amount = serializers.CharField()
    currency = serializers.CharField()
    month = serializers.CharField()


MoveSerializer._declared_fields["from"] = serializers.CharField(allow_blank=True)


class PreviewResultSerializer(serializers.Serializer):
    money_moved = MoveSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    at = serializers.CharField()
    by = serializers.CharField(allow_null=True)
    change = serializers.ChoiceField(choices=["created", "updated", "deleted"])
    before = serializers.DictField(allow_null=True)
    after = serializers.DictField()
    money_moved = MoveSerializer(many=True)


class HistorySerializer(serializers.Serializer):
    history = ChangeSerializer(many=True)
