"""What every server-rendered page asks first: whose data, and may this person change it.

The same tenancy boundary as the API views' (``organizations.tenancy``): both ask
``selectors.organization_for_request`` which organization a request acts on and
``selectors.can_write`` whether it may change it; pages only say "no" in their own words (a 404
page, a 403 page) instead of an API error.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.errors import NotFoundError

from . import selectors
from .selectors import can_write

__all__ = ["OrganizationPageMixin", "can_write", "page_organization", "writable_organization"]


def page_organization(request):
    """The signed-in person's current organization (the switcher's), or 404."""
    try:
        return selectors.organization_for_request(request)
    except NotFoundError:
        raise Http404("You are not a member of any organization.") from None


def writable_organization(request):
    """The current organization, if the person's role may change things there (else 403)."""
    organization = page_organization(request)
    if not can_write(request, organization):
        raise PermissionDenied("Your role in this organization is read-only.")
    return organization


class OrganizationPageMixin:
    """Class-based pages: ``get_organization()`` is the request's ``page_organization``."""

    def get_organization(self):
        return page_organization(self.request)
