"""Demo segments over the demo cost data: a Vantage-style tree and Archera-style segments."""

from .filter_tree import parse_structured, parse_vql
from .services import organization_refresh, segment_create

AWS = "costs.provider = 'aws'"


def load(organization, user) -> None:
    platform = segment_create(
        organization,
        name="Platform by environment",
        description="AWS costs split by the Environment tag.",
        filter_tree=parse_vql(AWS),
        track_unallocated=True,
        created_by=user,
    )
    for priority, environment in enumerate(("prod", "staging", "dev"), start=1):
        segment = segment_create(
            organization,
            name=environment.capitalize(),
            parent=platform,
            priority=priority,
            filter_tree=parse_vql(
                f"{AWS} AND tags.name = 'Environment' AND tags.value = '{environment}'"
            ),
            track_unallocated=environment == "prod",
            created_by=user,
        )
        if environment == "prod":
            # A third level, so the demo shows nested unallocated lines.
            for rank, (name, service) in enumerate(
                (("Prod compute", "AmazonEC2"), ("Prod storage", "AmazonS3")), start=1
            ):
                segment_create(
                    organization,
                    name=name,
                    parent=segment,
                    priority=rank,
                    filter_tree=parse_vql(f"{AWS} AND costs.service = '{service}'"),
                    created_by=user,
                )
    segment_create(
        organization,
        name="Compute across clouds",
        description="Virtual machines on every provider, amortized, tax left out.",
        filter_tree=parse_vql(
            "(costs.provider = 'aws' AND costs.service = 'AmazonEC2') OR "
            "(costs.provider = 'azure' AND costs.service = 'Virtual Machines') OR "
            "(costs.provider = 'gcp' AND costs.service = 'Compute Engine')"
        ),
        include_tax=False,
        created_by=user,
    )
    archera_style = [
        ("gcp", "EU regions", "GCP costs in Europe.", [("region", "contains", "europe")]),
        (
            "aws",
            "Linux EC2",
            "Linux instances on shared tenancy.",
            [("operating_system", "=", "Linux"), ("tenancy", "=", "Shared")],
        ),
        (
            "azure",
            "Azure data services",
            "Databases and storage.",
            [("service", "in", ["Azure SQL Database", "Azure Cosmos DB", "Azure Blob Storage"])],
        ),
    ]
    for provider, name, description, conditions in archera_style:
        segment_create(
            organization,
            name=name,
            description=description,
            provider=provider,
            filter_tree=parse_structured(
                [{"field": f, "op": op, "value": value} for f, op, value in conditions], provider
            ),
            created_by=user,
        )
    # Synchronous, so the demo has figures even when refreshes go to a worker that is not
    # running yet; trees an eager refresh already completed are not computed twice.
    organization_refresh(organization, only_pending=True)
