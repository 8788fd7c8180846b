"""Pages and endpoints that compose several apps: the overview (home), its onboarding action
and ``/health/``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from organizations.pages import can_write, writable_organization
from segments import services as segment_services

from .health import health_for
from .onboarding import guide, suggestion, suggestion_tree
from .overview import overview


def health(request):
    report, status = health_for(request)
    return JsonResponse(report, status=status)


@login_required
def home(request):
    """The overview: month-to-date spend against the same days of last month, how fresh each
    integration's data is, and what needs attention."""
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
