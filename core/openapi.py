"""OpenAPI responses shared by the DRF-envelope surfaces (costs, metrics)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorDetail = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

DESCRIBED = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT, description='Validation errors by field: {"field": ["message"]}'
    ),
    401: OpenApiResponse(ErrorDetail, description="No or invalid credentials"),
    403: OpenApiResponse(ErrorDetail, description="Read-only token or role"),
    404: OpenApiResponse(ErrorDetail, description="Not found in your organization"),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT, description='Conflicts with existing data: {"field": ["message"]}'
    ),
    413: OpenApiResponse(ErrorDetail, description="Body larger than the limit"),
    429: OpenApiResponse(ErrorDetail, description="Rate limited"),
}


def errors(*codes: int) -> dict:
    """OpenAPI responses for the error statuses of an endpoint (401 and 429 always apply)."""
    return {code: DESCRIBED[code] for code in sorted({*codes, 401, 429})}
