"""What every server-rendered page asks first: whose data, and may this person change it."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import selectors


def page_organization(request):
    """The signed-in person's current organization (the switcher's), or 404."""
    if not request.organization:
        raise Http404("You are not a member of any organization.")
    return request.organization


def can_write(request, organization) -> bool:
    membership = selectors.membership(request.user, organization)
    return bool(membership and membership.can_write)


def writable_organization(request):
    """The current organization, if the person's role may change things there (else 403)."""
    organization = page_organization(request)
    if not can_write(request, organization):
        raise PermissionDenied("Your role in this organization is read-only.")
    return organization
