"""What every Vantage v2 view shares: the ``{"errors": [...]}`` envelope and ``links`` paging
(``VantageSurface``), and how its errors are documented. Views take it with their tenancy as
``organizations.tenancy.VantageMixin``."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .errors import VANTAGE_ENVELOPE
from .pagination import VantagePagination

VantageErrors = inline_serializer(
    "VantageErrors", {"errors": serializers.ListField(child=serializers.CharField())}
)


def vantage_errors(*codes: int) -> dict:
    """OpenAPI responses for the given error statuses, in Vantage's envelope."""
    descriptions = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        422: "UnprocessableEntity",
        429: "TooManyRequests",
    }
    return {
        code: OpenApiResponse(VantageErrors, description=descriptions.get(code, "Error"))
        for code in (*codes, 401, 429)
    }


class VantageSurface:
    error_envelope = VANTAGE_ENVELOPE
    pagination_class = VantagePagination
