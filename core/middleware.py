"""One structured log line per request: method, path, status, organization, duration."""

import logging
import time

logger = logging.getLogger("costline.request")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        organization = getattr(request, "organization", None)
        token = getattr(request, "api_token", None)
        if token is not None:
            organization = token.organization
        logger.info(
            "request method=%s path=%s status=%s org=%s duration_ms=%.1f",
            request.method,
            request.path,
            response.status_code,
            getattr(organization, "pk", "-"),
            duration_ms,
        )
        return response


class BodySizeLimitMiddleware:
    """Refuse oversized API bodies up front with 413 in the surface's envelope.

    DRF parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never
    applies to JSON bodies; this puts the ceiling back. File uploads have their own, larger one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        from .errors import envelope_for_path, json_error_response

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length and envelope_for_path(request.path) is not None:
            is_upload = request.content_type == "multipart/form-data"
            limit = (
                settings.MAX_IMPORT_UPLOAD_BYTES
                if is_upload
                else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            )
            if length > limit:
                return json_error_response(
                    request,
                    413,
                    f"Request body too large: {length} bytes, limit {limit}.",
                    "request_too_large",
                )
        return self.get_response(request)
