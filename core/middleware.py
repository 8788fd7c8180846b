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


class BadInputMiddleware:
    """Refuse a NUL character in the path or the query, and out-of-range UTC offsets in the query.

    Both would otherwise reach the database (PostgreSQL stores no NUL and no offset past ±15:59)
    and fail there as a 500. The answer is a 400 in the envelope of the surface the path belongs
    to, naming the parameter; pages get the 400 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .params import NUL, NUL_MESSAGE, query_problems

        if NUL in request.path_info or NUL in request.path:
            return self._refuse(request, None, "The path " + NUL_MESSAGE)
        problems = query_problems(request.GET)
        if problems:
            name, message = problems[0]
            return self._refuse(request, name, message)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, name: str | None, message: str):
        from django.http import JsonResponse

        from .errors import ErrorInfo, envelope_for_path
        from .views import bad_request

        envelope = envelope_for_path(request.path.replace("\x00", ""))
        if envelope is None:
            return bad_request(request)
        if name is None:
            info = ErrorInfo(400, [message], message, "bad_request")
            original = {"detail": message}
        else:
            info = ErrorInfo(400, [f"{name}: {message}"], {name: [message]}, "invalid")
            original = {name: [message]}
        return JsonResponse(envelope.render(info, original), status=400)
