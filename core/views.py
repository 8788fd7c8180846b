from functools import lru_cache
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from organizations.pages import can_write, writable_organization

from .errors import ServiceError, envelope_for_path, json_error_response
from .health import health_for


def health(request):
    report, status = health_for(request)
    return JsonResponse(report, status=status)


@login_required
def home(request):
    """The overview: month-to-date spend against the same days of last month, how fresh each
    integration's data is, and what needs attention."""
    from .onboarding import guide
    from .overview import overview

    organization = getattr(request, "organization", None)
    if organization is None:
        return redirect("organizations:settings")
    context = overview(organization, timezone.now())
    context["guide"] = guide(organization)
    context["can_write"] = can_write(request, organization)
    return render(request, "core/overview.html", context)


@login_required
@require_POST
def onboarding_segment_create(request):
    """One click on a suggestion of the overview: create that segment (POST, CSRF), then
    redirect to it (or back to the overview with the reason)."""
    from segments import services as segment_services

    from .onboarding import suggestion, suggestion_tree

    organization = writable_organization(request)
    item = suggestion(organization, request.POST.get("suggestion", ""))
    if item is None:
        messages.error(request, "That suggestion is no longer offered; pick another one.")
        return redirect("home")
    try:
        segment = segment_services.segment_create(
            organization,
            name=item["name"],
            provider=item["provider"],
            filter_tree=suggestion_tree(item),
            created_by=request.user,
        )
    except ServiceError as error:
        messages.error(request, f"Could not create “{item['name']}”: {error.message}")
        return redirect("home")
    messages.success(request, f"Segment “{segment.name}” created; computing its costs.")
    return redirect("segments:detail", pk=segment.pk)


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
