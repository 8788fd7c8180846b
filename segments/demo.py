"""Demo segments over the demo cost data: a Vantage-style tree and Archera-style segments."""

from .filter_tree import parse_structured, parse_vql
from .services import segment_create


def load(organization, user) -> None:
    platform = segment_create(
        organization,
        name="Platform by environment",
        description="AWS costs split by the Environment tag.",
        filter_tree=parse_vql("costs.provider = 'aws'"),
        track_unallocated=True,
        created_by=user,
    )
    for priority, environment in enumerate(("prod", "staging", "dev"), start=1):
        segment_create(
            organization,
            name=environment.capitalize(),
            parent=platform,
            priority=priority,
            filter_tree=parse_vql(
                "costs.provider = 'aws' AND tags.name = 'Environment' "
                f"AND tags.value = '{environment}'"
            ),
            created_by=user,
        )
    segment_create(
        organization,
        name="Compute across clouds",
        filter_tree=parse_vql(
            "(costs.provider = 'aws' AND costs.service = 'AmazonEC2') OR "
            "(costs.provider = 'azure' AND costs.service = 'Virtual Machines') OR "
            "(costs.provider = 'gcp' AND costs.service = 'Compute Engine')"
        ),
        created_by=user,
    )
    segment_create(
        organization,
        name="EU regions",
        description="Archera-style segment of GCP costs in Europe.",
        provider="gcp",
        filter_tree=parse_structured(
            [{"field": "region", "op": "contains", "value": "europe"}], "gcp"
        ),
        created_by=user,
    )
