"""Which currencies an organization's cost data is in, for the pages that show sums of it."""

from .columnar.models import ColumnarPartition


def currencies(organization, provider: str | None = None) -> list[str]:
    """The billing currencies of the organization's cost data (of one provider's integrations),
    as the columnar store's manifest records them (no cost row is read)."""
    partitions = ColumnarPartition.objects.filter(organization=organization, active=True)
    if provider:
        partitions = partitions.filter(provider=provider)
    found = set()
    for codes in partitions.values_list("currencies", flat=True):
        found.update(codes)
    return sorted(found)


def currency_label(organization, provider: str | None = None) -> str:
    """What a sum of these costs is in: one code ("USD"), or "USD+EUR" when several are added
    together (the pages say so beside such a sum)."""
    return "+".join(currencies(organization, provider)) or "USD"
