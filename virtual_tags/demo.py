"""Demo virtual tags over the demo cost data: one key for the three spellings of a cost center,
and a shared network cost split between teams."""

from . import services


def load(organization, user) -> None:
    services.config_create(
        organization,
        user=user,
        key="Cost Center",
        overridable=False,
        backfill_until="2025-01-01",
        collapsed_tag_keys=[
            {"key": "CostCenter", "providers": ["aws", "azure"]},
            {"key": "cost-center", "providers": ["gcp"]},
        ],
        values=[{"filter": "", "name": "Unassigned"}],
    )
    services.config_create(
        organization,
        user=user,
        key="Team",
        overridable=False,
        backfill_until="2025-01-01",
        collapsed_tag_keys=[{"key": "Owner", "providers": []}, {"key": "owner", "providers": []}],
        values=[
            {
                "filter": "costs.provider = 'aws' AND costs.service = 'AmazonVPC'",
                "percentages": [
                    {"value": "team-platform", "pct": 50},
                    {"value": "team-data", "pct": 30},
                    {"value": "team-payments", "pct": 20},
                ],
            }
        ],
    )
