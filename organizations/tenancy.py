"""Tenant scoping for API views: the single place that keeps organizations apart."""

from __future__ import annotations

from core.errors import NotFoundError, ServiceError
from core.vantage import VantageSurface

from . import selectors
from .models import Organization


class OrganizationScopedMixin:
    """Resolves the request's organization once and scopes every queryset to it.

    ``organization_url_kwarg`` names the URL kwarg that carries the organization (Archera's
    ``org_id``, filter segments' ``account_id``); without one the credential decides.
    ``organization_lookup`` is the path from the model to its organization. Objects that belong
    to a workspace are further limited to ``get_workspaces()``: a token restricted to some
    workspaces never reaches another workspace's objects.
    """

    organization_url_kwarg: str | None = None
    organization_lookup = "organization"

    def get_organization(self) -> Organization:
        if not hasattr(self, "_organization"):
            organization_id = (
                self.kwargs.get(self.organization_url_kwarg)
                if self.organization_url_kwarg
                else None
            )
            self._organization = selectors.organization_for_request(self.request, organization_id)
        return self._organization

    def get_workspaces(self):
        """The workspaces this request's credential reaches (see ``reachable_workspaces``)."""
        return selectors.reachable_workspaces(self.request, self.get_organization())

    def scope_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular builds views without a request to read their querysets' models.
            return queryset.none()
        return queryset.filter(**{self.organization_lookup: self.get_organization()})

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())


class VantageMixin(VantageSurface, OrganizationScopedMixin):
    """A Vantage v2 view: its envelope and paging, scoped to the request's organization, and the
    look-ups every Vantage surface shares."""

    def workspace(self, token: str | None):
        """The named workspace, or the only one the credential reaches (Vantage's rule)."""
        workspaces = list(self.get_workspaces())
        if token:
            found = next((w for w in workspaces if w.token == token), None)
            if found is None:
                raise NotFoundError("Workspace not found.", field="workspace_token")
            return found
        if len(workspaces) == 1:
            return workspaces[0]
        raise ServiceError(
            "workspace_token is required when the token can reach several workspaces.",
            field="workspace_token",
        )

    def by_token(self, queryset, token: str, label: str, field: str | None = None):
        """The object of ``queryset`` with that token, or a 404 naming it."""
        found = queryset.filter(token=token).first()
        if found is None:
            raise NotFoundError(f"{label} not found.", field=field)
        return found
