from . import selectors


def current_organization(request):
    user = getattr(request, "user", None)
    # An API token's stand-in user (a token calling /api/docs/) has no memberships.
    if user is None or not user.is_authenticated or getattr(user, "pk", None) is None:
        return {}
    organization = getattr(request, "organization", None)
    return {
        "current_organization": organization if organization else None,
        "user_organizations": selectors.organizations_for_user(user),
        "current_membership": selectors.membership(user, organization) if organization else None,
    }
