"""Which organization a signed-in person is looking at (the organization switcher)."""

from django.utils.functional import SimpleLazyObject

from . import selectors

SESSION_KEY = "organization_id"


class CurrentOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = SimpleLazyObject(lambda: _current(request))
        return self.get_response(request)


def _current(request):
    return selectors.current_organization_for_user(
        request.user, request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    )
