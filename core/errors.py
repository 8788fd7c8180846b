"""The one application error, and how each API surface shows it.

Services raise ``ServiceError`` (or one of its kinds: ``NotFoundError``, ``ForbiddenError``,
``ConflictError``, ``UnprocessableError``) with a message, the field or fields concerned and a
code; never an HTTP status, never Django's ``ValidationError``. This module alone maps errors to
statuses: by kind for every surface (``STATUS_BY_KIND``), then by code where a surface decides
differently (``Envelope.status_by_code``).

A view sets ``error_envelope`` to one of the envelopes below; ``exception_handler`` (DRF's
EXCEPTION_HANDLER) turns every exception raised under that view into that surface's shape, and
``json_error_response`` does the same for errors Django raises before a view runs (unknown URL,
500). Pages show ``error.message`` (or ``error.errors`` on a form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from .throttling import refuse_anonymous


class ServiceError(Exception):
    """A business rule refused the request. Raised by services; surfaces render it.

    ``field`` names the one input concerned; ``errors`` (``{field: [messages]}``) reports
    several at once, ``message`` then summing them up. ``code`` says what went wrong in a word
    a client can test ("invalid" unless said otherwise).
    """

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors
        if code is not None:
            self.code = code

    @property
    def detail(self) -> dict | list:
        if self.errors:
            return {name: list(messages) for name, messages in self.errors.items()}
        if self.field:
            return {self.field: [self.message]}
        return [self.message]


class NotFoundError(ServiceError):
    code = "not_found"

    @property
    def detail(self) -> dict | list | str:
        # Without a field a 404 reads like DRF's own, {"detail": "..."}, never a bare list.
        return super().detail if self.field else self.message


class ForbiddenError(ServiceError):
    """The caller may not do this to this object (e.g. change a system-generated segment)."""

    code = "forbidden"


class ConflictError(ServiceError):
    code = "conflict"


class UnprocessableError(ServiceError):
    """The request is well-formed but cannot mean anything here."""

    code = "unprocessable"


# The HTTP status of each kind of application error, on every API surface (first match wins).
STATUS_BY_KIND: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ForbiddenError, status.HTTP_403_FORBIDDEN),
    (ConflictError, status.HTTP_409_CONFLICT),
    (UnprocessableError, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (ServiceError, status.HTTP_400_BAD_REQUEST),
)


@dataclass
class ErrorInfo:
    """One failure, independent of the wire format."""

    status_code: int
    messages: list[str]
    detail: object
    code: str


def flatten_detail(detail, prefix: str = "") -> list[str]:
    """Turn DRF's nested error detail into readable ``field: message`` strings."""
    if isinstance(detail, dict):
        messages = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            messages.extend(flatten_detail(value, path))
        return messages
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [f"{prefix}: {item}" if prefix else str(item) for item in detail]
        messages = []
        for index, item in enumerate(detail):
            messages.extend(flatten_detail(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
        return messages
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _codes(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _codes(value)
    if isinstance(detail, list) and detail:
        return _codes(detail[0])
    return getattr(detail, "code", None) or "invalid"


class Envelope:
    """DRF's own shape (``{"detail": ...}`` or field errors), for surfaces without their own."""

    # Codes this surface answers with another status than their kind's.
    status_by_code: dict[str, int] = {}

    def render(self, error: ErrorInfo, original):
        return original


# The filter language's codes for a filter that parses but means nothing (unknown field, a
# provider it cannot select, ...): every code of ``segments.filter_tree.errors`` but
# ``parse_error`` and ``too_long`` (syntax) and ``invalid`` (shared with every service).
FILTER_MEANING_CODES = (
    "too_deep",
    "unknown_field",
    "unknown_operator",
    "unknown_provider",
    "provider_mismatch",
    "operator_not_allowed",
    "invalid_value",
    "empty_list",
    "empty_group",
    "missing_provider",
    "mixed_and_or",
    "unbound_tag_value",
    "unsupported",
)


class VantageEnvelope(Envelope):
    # As Vantage does: a filter that parses but means nothing is a 422, a syntax error a 400.
    status_by_code = {code: status.HTTP_422_UNPROCESSABLE_ENTITY for code in FILTER_MEANING_CODES}

    def render(self, error: ErrorInfo, original):
        return {"errors": error.messages}


def _field_messages(detail) -> dict[str, list[str]]:
    """Any error detail as ``{field: [messages]}``; errors of no field go under
    ``non_field_errors`` (DRF's name)."""
    if isinstance(detail, dict):
        result: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for inner, messages in _field_messages(value).items():
                    name = key if inner == "non_field_errors" else f"{key}.{inner}"
                    result.setdefault(name, []).extend(messages)
            else:
                result.setdefault(str(key), []).extend(flatten_detail(value))
        return result
    return {"non_field_errors": flatten_detail(detail)}


class ArcheraEnvelope(Envelope):
    """``{"message", "detail", "code"}``; ``detail`` is always an object of field → messages,
    so a client parses one type whatever went wrong."""

    def render(self, error: ErrorInfo, original):
        return {
            "message": error.messages[0] if error.messages else "Error",
            "detail": _field_messages(error.detail),
            "code": error.code,
        }


DRF_ENVELOPE = Envelope()
VANTAGE_ENVELOPE = VantageEnvelope()
ARCHERA_ENVELOPE = ArcheraEnvelope()

# Errors raised before any view runs (no route, server error) pick the envelope by path.
ENVELOPES_BY_PATH_PREFIX = (
    ("/v2/", VANTAGE_ENVELOPE),
    ("/beta/", ARCHERA_ENVELOPE),
)


def envelope_for_path(path: str) -> Envelope | None:
    for prefix, envelope in ENVELOPES_BY_PATH_PREFIX:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return envelope
    if path.startswith("/api/"):
        return DRF_ENVELOPE
    return None


def http_status(error: ServiceError, envelope: Envelope | None = None) -> int:
    """The status ``error`` is answered with on the surface of ``envelope``."""
    if envelope is not None and error.code in envelope.status_by_code:
        return envelope.status_by_code[error.code]
    return next(code for kind, code in STATUS_BY_KIND if isinstance(error, kind))


def _as_drf_exception(exc, envelope: Envelope | None = None):
    if isinstance(exc, Http404):
        # get_object_or_404 says "No Segment matches the given query."; say "Segment not found."
        match = re.fullmatch(r"No (\w+) matches the given query\.", str(exc))
        if match is None:
            return exceptions.NotFound()
        # The model's class name in the API's words: ImportJob → "Import job not found."
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", match.group(1)).capitalize()
        return exceptions.NotFound(f"{words} not found.")
    if isinstance(exc, ServiceError):
        error = exceptions.APIException(detail=exc.detail, code=exc.code)
        error.status_code = http_status(exc, envelope)
        return error
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail=detail)
    return exc


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads the permission classes, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    view = context.get("view")
    envelope = getattr(view, "error_envelope", None) or DRF_ENVELOPE
    exc = _as_drf_exception(exc, envelope)
    if isinstance(exc, exceptions.NotAuthenticated) and context.get("request") is not None:
        exc = refuse_anonymous(context["request"], exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    original = response.data
    if isinstance(original, dict) and set(original) == {"detail"}:
        messages = flatten_detail(original["detail"])
        detail = original["detail"]
    else:
        messages = flatten_detail(original)
        detail = original
    code = _codes(getattr(exc, "detail", None)) if hasattr(exc, "detail") else "error"
    if code in ("invalid", None) and response.status_code >= 500:
        code = "server_error"
    info = ErrorInfo(response.status_code, messages, detail, str(code))
    response.data = envelope.render(info, original)
    return response


def json_error_response(request, status_code: int, message: str, code: str):
    """A JSON error in the envelope of the surface ``request.path`` belongs to."""
    envelope = envelope_for_path(request.path) or DRF_ENVELOPE
    info = ErrorInfo(status_code, [message], message, code)
    body = envelope.render(info, {"detail": message})
    return JsonResponse(body, status=status_code)


def error_response(envelope: Envelope, status_code: int, message: str, code: str) -> Response:
    info = ErrorInfo(status_code, [message], message, code)
    return Response(envelope.render(info, {"detail": message}), status=status_code)


__all__ = [
    "ARCHERA_ENVELOPE",
    "DRF_ENVELOPE",
    "VANTAGE_ENVELOPE",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "ServiceError",
    "UnprocessableError",
    "exception_handler",
    "http_status",
    "json_error_response",
]
