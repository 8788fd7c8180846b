"""Views of no particular app: the API reference's ReDoc bundle and the error pages (JSON in the
envelope of the API a path belongs to, HTML elsewhere)."""

from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import cache_control

from .errors import envelope_for_path, json_error_response

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# The one address the ReDoc bundle loads by itself: its footer logo. Served from here instead,
# the API reference page needs nothing from another site (and breaks no CSP rule).
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_bundle() -> str:
    return Path(finders.find(REDOC_BUNDLE)).read_text(encoding="utf-8")


@cache_control(max_age=86_400, public=True)
def redoc_bundle(request):
    """The sidecar's ReDoc bundle with its logo served by Costline (templates/drf_spectacular)."""
    body = _redoc_bundle().replace(REDOC_LOGO, static("favicon.svg"))
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


def _api_or_page(request, status_code, message, code, page_view, **kwargs):
    if envelope_for_path(request.path) is not None:
        return json_error_response(request, status_code, message, code)
    return page_view(request, **kwargs)


def bad_request(request, exception=None):
    return _api_or_page(
        request, 400, "Bad request.", "bad_request", defaults.bad_request, exception=exception
    )


def permission_denied(request, exception=None):
    return _api_or_page(
        request,
        403,
        "Permission denied.",
        "permission_denied",
        defaults.permission_denied,
        exception=exception,
    )


def page_not_found(request, exception=None):
    return _api_or_page(
        request, 404, "Not found.", "not_found", defaults.page_not_found, exception=exception
    )


def server_error(request):
    return _api_or_page(
        request, 500, "Internal server error.", "server_error", defaults.server_error
    )
