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
