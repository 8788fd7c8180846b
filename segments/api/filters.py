"""POST /api/v1/filters/validate: live validation of a segment filter, in either syntax."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import flatten_detail
from core.openapi import DESCRIBED, ErrorDetail
from organizations.permissions import SignedIn
from organizations.tenancy import OrganizationScopedMixin

from ..filter_tree.errors import FilterError
from ..filter_tree.preview import filter_preview


class FilterValidateRequestSerializer(serializers.Serializer):
    vql = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="A VQL filter."
    )
    provider = serializers.CharField(
        required=False, help_text="aws, azure or gcp: the provider of a structured filter."
    )
    filters = serializers.JSONField(
        required=False,
        help_text='Structured conditions: [{"field", "op", "value"}, ...] or {"any": [...]}.',
    )

    def validate(self, data):
        if ("vql" in data) == ("filters" in data):
            raise serializers.ValidationError(
                'Give either "vql" or "provider" and "filters", not both and not neither.'
            )
        if "vql" in data and "provider" in data:
            raise serializers.ValidationError(
                'A VQL filter names its provider with costs.provider; leave out "provider".'
            )
        return data


class FilterValidateResponseSerializer(serializers.Serializer):
    tree = serializers.JSONField(help_text="The canonical filter tree (stored form).")
    vql = serializers.CharField(help_text="The filter as canonical VQL.")
    filters = serializers.JSONField(help_text="The filter as structured conditions.")
    provider = serializers.CharField(
        allow_null=True, help_text="The one provider the filter selects, else null."
    )
    matching_rows = serializers.IntegerField(help_text="Cost rows matched, last 30 days.")
    matching_cost = serializers.FloatField(help_text="Their billed cost, last 30 days.")


class FilterErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The whole message, position included.")
    message = serializers.CharField(required=False)
    code = serializers.CharField()
    position = serializers.DictField(
        allow_null=True, help_text="{offset, line, column} of a VQL error, else null."
    )
    field = serializers.CharField(allow_null=True)
    expected = serializers.ListField(child=serializers.CharField(), allow_null=True)


def _request_error(errors) -> dict:
    messages = flatten_detail(errors)
    fields = [name for name in errors if name != "non_field_errors"]
    return {
        "detail": " ".join(messages),
        "message": " ".join(messages),
        "code": "invalid_request",
        "position": None,
        "field": fields[0] if fields else None,
        "expected": None,
    }


class FilterValidateView(OrganizationScopedMixin, APIView):
    # Validating a filter changes nothing, so a read-scope token or a viewer may POST it.
    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="validateFilter",
        tags=["Filters"],
        summary="Validate a segment filter",
        description=(
            "Parses a VQL filter (`vql`) or structured conditions (`provider` + `filters`) "
            "with the rules of creating a segment, and answers the canonical tree, both "
            "renderings and the count and billed cost of the organization's cost rows it "
            "matches over the last 30 days. Changes nothing: a read-scope token suffices."
        ),
        request=FilterValidateRequestSerializer,
        responses={
            200: FilterValidateResponseSerializer,
            400: OpenApiResponse(FilterErrorSerializer, description="Invalid filter"),
            401: DESCRIBED[401],
            404: OpenApiResponse(ErrorDetail, description="No organization for these credentials"),
            429: DESCRIBED[429],
        },
        examples=[
            OpenApiExample(
                "VQL",
                value={"vql": "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"},
                request_only=True,
            ),
            OpenApiExample(
                "Structured",
                value={
                    "provider": "aws",
                    "filters": [{"field": "service", "op": "=", "value": "AmazonEC2"}],
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        try:
            data = request.data
        except exceptions.ParseError as error:  # malformed JSON: the same 400 body as the rest
            return Response(_request_error({"non_field_errors": [error.detail]}), status=400)
        serializer = FilterValidateRequestSerializer(data=data)
        if not serializer.is_valid():
            return Response(_request_error(serializer.errors), status=400)
        try:
            result = filter_preview(self.get_organization(), **serializer.validated_data)
        except FilterError as error:
            return Response(error.as_dict(), status=400)
        return Response(result)
