"""Guiding a new organization from the overview: first an integration and an import, then a
first segment from a suggestion (one per provider in the data, one per top tag key)."""

from __future__ import annotations

from django.db.models import Count

from costs import selectors as cost_selectors
from costs.models import DimensionField, DimensionValue, Provider
from segments import selectors as segment_selectors
from segments.filter_tree import parse_vql
from segments.filter_tree.vql import quote as _quote

# Tag keys suggested per provider: the ones with the most distinct values.
TOP_TAG_KEYS = 2


def suggestions(organization) -> list[dict]:
    """Segments worth creating first, from the dimension-value table (no cost-row scan):
    each provider's costs, and its costs carrying each of its top tag keys."""
    values = DimensionValue.objects.filter(organization=organization)
    labels = dict(Provider.choices)
    result = []
    for provider in sorted(set(values.values_list("provider", flat=True).distinct())):
        label = labels.get(provider, provider)
        result.append(
            {
                "key": f"provider:{provider}",
                "name": f"All {label} costs",
                "provider": provider,
                "vql": f"costs.provider = {_quote(provider)}",
                "why": f"every {label} charge in one segment",
            }
        )
        top_keys = (
            values.filter(provider=provider, field=DimensionField.TAG)
            .values("key")
            .annotate(count=Count("value", distinct=True))
            .order_by("-count", "key")[:TOP_TAG_KEYS]
        )
        for row in top_keys:
            key = row["key"]
            result.append(
                {
                    "key": f"tag:{provider}:{key}",
                    "name": f"{label} costs tagged {key}",
                    "provider": provider,
                    "vql": f"costs.provider = {_quote(provider)} AND tags.name = {_quote(key)}",
                    "why": f"a top tag key ({row['count']} values); add a child per value",
                }
            )
    return result


def suggestion(organization, key: str) -> dict | None:
    return next((item for item in suggestions(organization) if item["key"] == key), None)


def suggestion_tree(item: dict):
    return parse_vql(item["vql"], vantage_rules=False)


def guide(organization) -> dict | None:
    """What a new organization should do next, or ``None`` once it has data and a segment."""
    integrations = cost_selectors.integrations_for_organization(organization)
    if not integrations.exists():
        return {"step": "integration"}
    if not DimensionValue.objects.filter(organization=organization).exists():
        return {"step": "import", "integration": integrations.order_by("name").first()}
    has_segments = (
        segment_selectors.segments_for_organization(organization)
        .filter(is_system_generated=False)
        .exists()
    )
    if has_segments:
        return None
    return {"step": "segment", "suggestions": suggestions(organization)}
