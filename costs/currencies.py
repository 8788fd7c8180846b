"""Which currencies an organization's cost data is in, for the pages that show sums of it."""

from .models import CostRow, Integration


def currencies(organization, provider: str | None = None) -> list[str]:
    """The billing currencies of the organization's cost data (of one provider's integrations):
    one cost row per integration tells it, as an export is in one currency."""
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
