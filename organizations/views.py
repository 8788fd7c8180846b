"""Pages: settings (API tokens) and the organization switcher."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import ServiceError

from . import selectors, services
from .forms import ApiTokenForm
from .middleware import SESSION_KEY
from .models import ApiToken
from .pages import page_organization

# A new token's secret survives one redirect in the session, then is shown once and dropped.
NEW_SECRET_KEY = "new_token_secret"


@login_required
def settings_page(request):
    organization = page_organization(request)
    membership = selectors.membership(request.user, organization)
    can_manage = bool(membership and membership.can_manage)
    form = ApiTokenForm(organization=organization)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only admins manage API tokens.")
        form = ApiTokenForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                token, new_secret = services.api_token_create(
                    organization,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    workspaces=form.cleaned_data["workspaces"],
                    expires_at=form.cleaned_data["expires_at"],
                    created_by=request.user,
                )
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Token “{token.name}” created.")
                request.session[NEW_SECRET_KEY] = new_secret
                return redirect("organizations:settings")
    context = {
        "organization": organization,
        "membership": membership,
        "can_manage": can_manage,
        "form": form,
        "new_secret": request.session.pop(NEW_SECRET_KEY, None),
        "tokens": selectors.tokens_for_organization(organization),
        "workspaces": organization.workspaces.all(),
        "members": organization.memberships.select_related("user"),
    }
    return render(request, "organizations/settings.html", context)


@login_required
@require_POST
def token_revoke(request, pk):
    organization = page_organization(request)
    membership = selectors.membership(request.user, organization)
    if not (membership and membership.can_manage):
        raise PermissionDenied("Only admins manage API tokens.")
    token = get_object_or_404(ApiToken, pk=pk, organization=organization)
    services.api_token_revoke(token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("organizations:settings")


@login_required
@require_POST
def switch_organization(request):
    organization_id = request.POST.get("organization")
    chosen = next(
        (o for o in selectors.organizations_for_user(request.user) if str(o.pk) == organization_id),
        None,
    )
    if chosen is None:
        raise Http404("Organization not found.")
    request.session[SESSION_KEY] = str(chosen.pk)
    next_url = request.POST.get("next") or "/"
    return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/")
