"""Demo reports over the demo cost data: a folder with a saved filter, and reports as the
cost explorer and a FinOps script would keep them."""

from segments.filter_tree import parse_vql

from .services import cost_report_create, folder_create, saved_filter_create


def load(organization, user) -> None:
    workspace = organization.default_workspace
    production = saved_filter_create(
        organization,
        workspace=workspace,
        title="Production",
        filter_tree=parse_vql(
            "tags.name = 'Environment' AND tags.value = 'prod'", vantage_rules=False
        ),
        created_by=user,
    )
    platform = folder_create(organization, workspace=workspace, title="Platform team")
    cost_report_create(
        organization,
        workspace=workspace,
        title="AWS by service",
        filter_tree=parse_vql("costs.provider = 'aws'"),
        folder=platform,
        groupings=["service"],
        date_interval="last_3_months",
        date_bin="month",
        created_by=user,
    )
    cost_report_create(
        organization,
        workspace=workspace,
        title="Production by provider and region",
        saved_filters=[production],
        folder=platform,
        groupings=["provider", "region"],
        date_interval="last_30_days",
        date_bin="week",
        created_by=user,
    )
    cost_report_create(
        organization,
        workspace=workspace,
        title="Every cloud, every charge",
        groupings=["provider"],
        date_interval="last_6_months",
        date_bin="month",
        include_credits=True,
        include_refunds=True,
        created_by=user,
    )
