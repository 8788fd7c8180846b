"""OpenAPI responses shared by the DRF-envelope surfaces (costs, metrics, filter segments).

DRF's shape on the wire: ``{"detail": "message"}`` for 401, 403, 404 and 429; field errors
``{"field": ["message"]}`` (nested for lists and objects) for a 400 or 409, and for a 404 that
names the parameter it could not find (``{"segment": ["Segment not found."]}``); a bare list
``["message"]`` when a rule is about no field in particular.
"""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorDetail = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

_DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
FIELD_ERRORS = {
    "type": "object",
    "description": '{"field": ["message"]}; nested by key or index for objects and lists.',
    "additionalProperties": True,
}
MESSAGES = {"type": "array", "items": {"type": "string"}}
FIELD_ERRORS_OR_MESSAGES = {"anyOf": [FIELD_ERRORS, MESSAGES]}
DETAIL_OR_FIELD_ERRORS = {"anyOf": [_DETAIL, FIELD_ERRORS]}

DESCRIBED = {
    400: OpenApiResponse(
        FIELD_ERRORS_OR_MESSAGES,
        description='Validation errors by field: {"field": ["message"]}, or ["message"]',
    ),
    401: OpenApiResponse(ErrorDetail, description="No or invalid credentials"),
    403: OpenApiResponse(ErrorDetail, description="Read-only token or role"),
    404: OpenApiResponse(
        DETAIL_OR_FIELD_ERRORS,
        description='Not found in your organization: {"detail": "…"}, or {"parameter": '
        '["… not found."]} when a parameter names something that does not exist',
    ),
    409: OpenApiResponse(
        FIELD_ERRORS_OR_MESSAGES,
        description='Conflicts with existing data: {"field": ["message"]}',
    ),
    413: OpenApiResponse(ErrorDetail, description="Body larger than the limit"),
    429: OpenApiResponse(ErrorDetail, description="Rate limited"),
}


def errors(*codes: int) -> dict:
    """OpenAPI responses for the error statuses of an endpoint (401 and 429 always apply)."""
    return {code: DESCRIBED[code] for code in sorted({*codes, 401, 429})}
