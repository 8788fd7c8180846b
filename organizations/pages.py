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


def currencies(organization, provider: str | None = None) -> list[str]:
    """The billing currencies of the organization's cost data (of one provider's integrations):
    one cost row per integration tells it, as an export is in one currency."""
    from costs.models import CostRow, Integration

    integrations = Integration.objects.filter(organization=organization)
    if provider:
        integrations = integrations.filter(provider=provider)
    found = set()
    for integration_id in integrations.values_list("pk", flat=True):
        first = CostRow.objects.filter(integration_id=integration_id).values_list(
            "billing_currency", flat=True
        )[:1]
        found.update(code for code in first if code)
    return sorted(found)


def currency_label(organization, provider: str | None = None) -> str:
    """What a sum of these costs is in: one code ("USD"), or "USD+EUR" when several are added
    together (the pages say so beside such a sum)."""
    return "+".join(currencies(organization, provider)) or "USD"
