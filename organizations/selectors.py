"""Reads about organizations, memberships and credentials; the one place tenancy is decided."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from core.errors import NotFoundError

from .models import ApiToken, Membership, Organization, Workspace


def organizations_for_user(user) -> list[Organization]:
    return list(Organization.objects.for_user(user).order_by("name"))


def membership(user, organization) -> Membership | None:
    if not getattr(user, "is_authenticated", False) or organization is None:
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def current_organization_for_user(user, preferred_id: str | None) -> Organization | None:
    """The organization chosen in the switcher, else the user's first one."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    organizations = Organization.objects.for_user(user)
    if preferred_id:
        chosen = organizations.filter(pk=preferred_id).first()
        if chosen is not None:
            return chosen
    return organizations.order_by("name").first()


def _parse_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def request_token(request) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


def organization_for_request(request, organization_id=None) -> Organization:
    """The organization a request acts on, or 404.

    A token acts on its own organization only; a person on any organization they belong to
    (the one in the URL, else the one chosen in the switcher). Anything else is a 404, so that
    ids of other tenants are indistinguishable from ids that do not exist.
    """
    token = request_token(request)
    if token is not None:
        if organization_id is not None and _parse_uuid(organization_id) != token.organization_id:
            raise NotFoundError("Organization not found.")
        return token.organization
    user = request.user
    if organization_id is not None:
        parsed = _parse_uuid(organization_id)
        found = Organization.objects.for_user(user).filter(pk=parsed).first() if parsed else None
        if found is None:
            raise NotFoundError("Organization not found.")
        return found
    current = getattr(request, "organization", None)
    if current:
        return current
    found = current_organization_for_user(user, None)
    if found is None:
        raise NotFoundError("You are not a member of any organization.")
    return found


def can_write(request, organization: Organization) -> bool:
    token = request_token(request)
    if token is not None:
        return token.can_write
    found = membership(request.user, organization)
    return bool(found and found.can_write)


def reachable_workspaces(request, organization: Organization) -> QuerySet[Workspace]:
    """The workspaces a request's credential reaches: the one scoping rule of every surface.

    A person reaches every workspace of an organization they belong to; an API token reaches
    the workspaces it is restricted to, or all of its organization's when it has no restriction.
    Surfaces, pages and selectors start every workspace-owned queryset from this one.
    """
    workspaces = Workspace.objects.filter(organization=organization)
    token = request_token(request)
    if token is not None:
        restricted = list(token.workspaces.values_list("pk", flat=True))
        if restricted:
            workspaces = workspaces.filter(pk__in=restricted)
    return workspaces


def default_reachable_workspace(request, organization: Organization) -> Workspace:
    """Where a write that names no workspace lands: the default workspace when the credential
    reaches it, else the first one it reaches."""
    workspaces = list(reachable_workspaces(request, organization).order_by("created_at", "id"))
    chosen = next((w for w in workspaces if w.is_default), workspaces[0] if workspaces else None)
    if chosen is None:
        raise NotFoundError("Workspace not found.", field="workspace_token")
    return chosen


def tokens_for_organization(organization: Organization):
    return (
        ApiToken.objects.filter(organization=organization)
        .select_related("created_by")
        .prefetch_related("workspaces")
    )
