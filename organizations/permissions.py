"""The permission every API view uses: signed in, a member, and allowed to write if writing.

``SignedIn`` alone serves views that change nothing or check membership through tenancy.

Tenancy itself (another organization's object is a 404) is enforced by the queryset scoping of
``organizations.tenancy.OrganizationScopedMixin``.
"""

from rest_framework import exceptions, permissions

from . import selectors


class SignedIn(permissions.BasePermission):
    """Signed in (a session or an API token of any scope); anonymous requests get a 401."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
        return True


class OrganizationAccess(SignedIn):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        super().has_permission(request, view)
        if request.method in permissions.SAFE_METHODS:
            return True
        get_organization = getattr(view, "get_organization", None)
        if get_organization is None:
            return selectors.request_token(request) is None or request.auth.can_write
        organization = get_organization()
        if not selectors.can_write(request, organization):
            token = selectors.request_token(request)
            if token is not None:
                raise exceptions.PermissionDenied("This API token has read scope only.")
            raise exceptions.PermissionDenied("Your role in this organization is read-only.")
        return True


class SessionOnly(permissions.BasePermission):
    """For features meant for people in the pages: API tokens get a 403."""

    message = "This endpoint requires a signed-in user; API tokens are not accepted."

    def has_permission(self, request, view):
        if selectors.request_token(request) is not None:
            raise exceptions.PermissionDenied(self.message)
        return True
