from . import selectors


def current_organization(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    organization = getattr(request, "organization", None)
    return {
        "current_organization": organization if organization else None,
        "user_organizations": selectors.organizations_for_user(user),
        "current_membership": selectors.membership(user, organization) if organization else None,
    }
