"""Wire format of seed 002: a segment and its predicates, and the list's query parameters."""

from rest_framework import serializers

from core.params import UTC_TIMESTAMP_FORMAT

from .. import selectors
from ..models import MAX_FILTERS


class StringField(serializers.CharField):
    """A JSON string only: a number or boolean is a 400 instead of being turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictKeysMixin:
    """Unknown keys are a 400 naming them, so a typo never saves a half-empty segment."""

    unknown_keys_message = "Unknown field(s): {keys}."

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {"non_field_errors": [self.unknown_keys_message.format(keys=sorted(unknown))]}
                )
        return super().to_internal_value(data)


class PredicateSerializer(StrictKeysMixin, serializers.Serializer):
    unknown_keys_message = "Unknown predicate key(s): {keys}; use type, id and label."

    type = StringField(max_length=64, help_text="Filter name of the list page.")
    id = StringField(max_length=255, help_text="Filter value: an option id, date or number.")
    label = StringField(max_length=255, help_text="Text of the filter chip.")

    def to_internal_value(self, data):
        # A PATCH makes DRF treat nested fields as optional too; a predicate is always whole.
        if isinstance(data, dict):
            missing = [name for name in self.fields if name not in data]
            if missing:
                raise serializers.ValidationError(
                    {name: ["This field is required."] for name in missing}
                )
        return super().to_internal_value(data)


class FilterSegmentSerializer(StrictKeysMixin, serializers.Serializer):
    id = serializers.CharField(read_only=True)
    module = StringField(max_length=64)
    name = StringField(max_length=80)
    filters = PredicateSerializer(many=True, max_length=MAX_FILTERS)
    created_by_user_id = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True, format=UTC_TIMESTAMP_FORMAT)
    updated_at = serializers.DateTimeField(read_only=True, format=UTC_TIMESTAMP_FORMAT)


class FilterSegmentPageSerializer(serializers.Serializer):
    """The list's body (for the schema): ``PageNumberPagination`` around the segments."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    results = FilterSegmentSerializer(many=True)


class ListQuerySerializer(serializers.Serializer):
    """``module``, ``search``, ``sort_by`` and ``sort_order``; paging is the paginator's."""

    module = serializers.CharField(max_length=64)
    search = serializers.CharField(required=False, allow_blank=True, max_length=80)
    sort_by = serializers.ChoiceField(choices=selectors.SORT_FIELDS, default="updated_at")
    sort_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
