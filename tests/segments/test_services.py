"""Segment services: exact distinct-resource counts, failures that stay visible, what children
inherit (provider, workspace), and the rules every surface shares."""

import datetime

import pytest
from django.db.models import Sum

from core import background
from core.errors import NotFoundError, ServiceError, http_status
from segments import allocation, selectors, services, tasks
from segments.filter_tree import FilterError, parse_vql
from segments.models import Granularity, Line, Segment, SegmentMetric, Status
from segments.services import ImmutableSegmentError, segment_create, segment_update

from ..factories import WorkspaceFactory
from .conftest import committed, row, vql_segment

AWS = "costs.provider = 'aws'"
OCT_5 = datetime.date(2026, 10, 5)


def resources(segment, line=Line.TOTAL, granularity=Granularity.MONTH, period=None):
    metrics = SegmentMetric.objects.filter(segment=segment, line=line, granularity=granularity)
    if period:
        metrics = metrics.filter(period_start=period)
    return metrics.aggregate(total=Sum("resource_count"))["total"] or 0


def test_a_resource_in_two_children_counts_once_in_their_parent(organization, aws):
    # i-1 has rows in both children (prod and dev tags on different charges); i-2 only in prod;
    # i-3 in no child (unallocated); i-4 is a credit, which is not usage.
    row(aws, resource_id="i-1", tags={"env": "prod"})
    row(aws, resource_id="i-1", tags={"env": "dev"})
    row(aws, resource_id="i-2", tags={"env": "prod"})
    row(aws, resource_id="i-3", tags={"env": "test"})
    row(aws, resource_id="i-4", tags={"env": "prod"}, charge_category="Credit", cost=-1)
    top = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    prod = vql_segment(
        organization,
        "Prod",
        f"{AWS} AND tags.name = 'env' AND tags.value = 'prod'",
        parent=top,
        priority=1,
    )
    dev = vql_segment(
        organization,
        "Dev",
        f"{AWS} AND tags.name = 'env' AND tags.value = 'dev'",
        parent=top,
        priority=2,
    )
    for granularity, period in (
        (Granularity.MONTH, OCT_5.replace(day=1)),
        (Granularity.DAY, OCT_5),
    ):
        assert resources(prod, granularity=granularity, period=period) == 2
        assert resources(dev, granularity=granularity, period=period) == 1
        assert resources(top, granularity=granularity, period=period) == 3  # not 2 + 1 + 1
        assert resources(top, Line.UNALLOCATED, granularity, period) == 1


def test_three_level_resource_counts_are_exact_at_every_level(organization, aws):
    for resource, service, region in [
        ("r1", "AmazonEC2", "us-east-1"),
        ("r1", "AmazonEC2", "eu-west-1"),
        ("r2", "AmazonEC2", "eu-west-1"),
        ("r2", "AmazonS3", "eu-west-1"),
        ("r3", "AmazonS3", "us-east-1"),
    ]:
        row(aws, resource_id=resource, service_name=service, region_id=region)
    top = vql_segment(organization, "AWS", AWS)
    ec2 = vql_segment(organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'", parent=top)
    vql_segment(organization, "EC2 US", f"{AWS} AND costs.region = 'us-east-1'", parent=ec2)
    eu = vql_segment(organization, "EC2 EU", f"{AWS} AND costs.region = 'eu-west-1'", parent=ec2)
    assert [resources(s) for s in (top, ec2, eu)] == [3, 2, 2]
    assert resources(ec2, Line.UNALLOCATED) == 0


def test_level_labels_stop_at_the_requested_depth(organization, aws):
    top = vql_segment(organization, "AWS", AWS)
    child = vql_segment(organization, "C", AWS, parent=top)
    vql_segment(organization, "G", AWS, parent=child)
    root = allocation.load_tree(top)
    assert allocation.tree_depth(root) == 2
    assert len(allocation.line_case(root, 1).cases) == 1
    assert len(allocation.line_case(root).cases) == 2


def test_a_failed_refresh_is_recorded_and_the_next_success_clears_it(
    organization, aws, monkeypatch
):
    row(aws)
    segment = vql_segment(organization, "AWS", AWS)
    assert SegmentMetric.objects.filter(segment=segment).exists()

    def broken(root, months=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "allocation_metrics", broken)
    with pytest.raises(RuntimeError):
        services.segment_tree_refresh(segment.pk)
    segment.refresh_from_db()
    assert segment.status == Status.FAILED
    assert segment.status_reason == "RuntimeError: database went away"
    # The old metrics are still there: a failed refresh writes nothing.
    assert SegmentMetric.objects.filter(segment=segment).exists()
    monkeypatch.undo()
    services.segment_tree_refresh(segment.pk)
    segment.refresh_from_db()
    assert (segment.status, segment.status_reason) == (Status.COMPLETED, "")


def test_services_enqueue_the_refresh_task_by_its_registered_name():
    # The services name the task (segments.tasks imports them); the name finds the task itself.
    assert (
        background.task(services.TREE_REFRESH_TASK)
        is tasks.refresh_segment_tree._get_current_object()
    )


def test_refresh_of_a_deleted_tree_is_a_no_op(db):
    assert services.segment_tree_refresh("00000000-0000-0000-0000-000000000000") is None


def test_child_inherits_its_parents_provider(organization):
    parent = vql_segment(organization, "AWS", AWS)
    with committed():
        unfiltered = segment_create(organization, name="Everything", parent=parent)
        other = segment_create(
            organization,
            name="AWS or GCP",
            parent=parent,
            filter_tree=parse_vql("costs.provider IN ('aws', 'gcp')"),
        )
    assert (unfiltered.provider, other.provider) == ("aws", "aws")
    # Archera lists children with their parent's provider.
    visible = selectors.segments_for_organization(organization)
    listed = selectors.segments_for_provider(visible, "aws")
    assert {s.name for s in listed} == {"AWS", "Everything", "AWS or GCP"}


def test_a_child_filter_contradicting_its_parents_provider_is_refused(organization):
    parent = vql_segment(organization, "AWS", AWS)
    with pytest.raises(FilterError, match="parent only sees aws") as raised:
        segment_create(
            organization, name="GCP", parent=parent, filter_tree=parse_vql("costs.provider = 'gcp'")
        )
    assert raised.value.code == "provider_mismatch"
    ec2 = f"{AWS} AND costs.service = 'AmazonEC2'"
    child = vql_segment(organization, "EC2", ec2, parent=parent)
    with pytest.raises(FilterError, match="parent only sees aws"):
        segment_update(child, filter_tree=parse_vql("costs.provider = 'gcp'"))
    gcp_top = vql_segment(organization, "GCP top", "costs.provider = 'gcp'")
    with pytest.raises(FilterError, match="parent only sees aws"):
        segment_update(gcp_top, parent=parent)
    assert not Segment.objects.filter(name="GCP").exists()
    assert Segment.objects.get(name="GCP top").parent_id is None


def test_parents_new_provider_and_workspace_reach_every_descendant(organization):
    elsewhere = WorkspaceFactory(organization=organization)
    top = vql_segment(organization, "Top", AWS)
    child = vql_segment(organization, "Child", AWS, parent=top)
    with committed():
        grandchild = segment_create(organization, name="Grandchild", parent=child)
        segment_update(top, filter_tree=parse_vql("costs.provider = 'azure'"), workspace=elsewhere)
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert (child.provider, grandchild.provider) == ("azure", "azure")
    assert child.workspace == grandchild.workspace == elsewhere


def test_moving_a_segment_under_another_parent_takes_its_workspace(organization):
    elsewhere = WorkspaceFactory(organization=organization)
    target = vql_segment(organization, "Target", AWS, workspace=elsewhere)
    moving = vql_segment(organization, "Moving", AWS)
    leaf = vql_segment(organization, "Leaf", AWS, parent=moving)
    with committed():
        segment_update(moving, parent=target)
    leaf.refresh_from_db()
    assert leaf.workspace == elsewhere
    target.refresh_from_db()
    assert target.status == Status.COMPLETED  # recomputed after the move


def test_report_settings_are_refused_on_children_and_kept_on_top_level(organization):
    top = vql_segment(organization, "Top", AWS, include_credits=True, amortize=False)
    assert (top.include_credits, top.amortize, top.include_tax) == (True, False, True)
    with pytest.raises(ServiceError, match="top-level"):
        segment_create(organization, name="Child", parent=top, include_tax=False)
    child = vql_segment(organization, "Child", AWS, parent=top)
    with pytest.raises(ServiceError, match="top-level"):
        segment_update(child, amortize=True)
    # Children answer with their top-level segment's settings.
    assert selectors.included_kinds(child) == selectors.included_kinds(top)


def test_a_parent_of_another_organization_is_not_found(organization, other_organization):
    theirs = vql_segment(other_organization, "Theirs", AWS)
    with pytest.raises(NotFoundError):
        segment_create(organization, name="Mine", parent=theirs)
    mine = vql_segment(organization, "Mine", AWS)
    with pytest.raises(NotFoundError):
        segment_update(mine, parent=theirs)


def test_segment_cannot_become_its_own_ancestor(organization):
    top = vql_segment(organization, "Top", AWS)
    child = vql_segment(organization, "Child", AWS, parent=top)
    for new_parent in (top, child):
        with pytest.raises(ServiceError, match="ancestor"):
            segment_update(top, parent=new_parent)
    top.refresh_from_db()
    assert top.parent is None


def test_blank_names_and_unknown_fields_are_refused(organization):
    with pytest.raises(ServiceError, match="name"):
        segment_create(organization, name="  ")
    segment = vql_segment(organization, "Named", AWS)
    with pytest.raises(ServiceError, match="name"):
        segment_update(segment, name="")
    with pytest.raises(ServiceError, match="Unknown field"):
        segment_update(segment, token="fltr_sgmt_0000000000000000")


def test_system_segments_change_nothing_through_services(organization):
    system = services.system_segment_ensure(organization, "aws")
    assert services.system_segment_ensure(organization, "aws") == system
    with pytest.raises(ImmutableSegmentError) as error:
        segment_update(system, name="Renamed")
    assert http_status(error.value) == 403
    with pytest.raises(ImmutableSegmentError):
        services.segment_delete(system)
    system.refresh_from_db()
    assert system.name == "provider-resources"


def test_deleting_a_child_recomputes_the_parent(organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    top = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    child = vql_segment(organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'", parent=top)
    assert SegmentMetric.objects.filter(segment=top, line=Line.UNALLOCATED).count() == 0
    with committed():
        services.segment_delete(child)
    assert not Segment.objects.filter(pk=child.pk).exists()
    top.refresh_from_db()
    assert top.status == Status.COMPLETED


def test_import_refreshes_only_the_touched_months(organization, aws):
    row(aws, charge_period_start=datetime.date(2026, 9, 2), cost=1)
    row(aws, charge_period_start=datetime.date(2026, 10, 2), cost=2)
    segment = vql_segment(organization, "AWS", AWS)
    row(aws, charge_period_start=datetime.date(2026, 9, 3), cost=100)  # not announced
    row(aws, charge_period_start=datetime.date(2026, 10, 3), cost=20)
    with committed():
        services.segments_refresh_after_import(organization.pk, "aws", [datetime.date(2026, 10, 1)])
    months = selectors.monthly_metrics([segment.pk])[segment.pk]
    assert [m["billed_cost"] for m in months] == [1, 22]


def test_a_child_without_a_filter_takes_what_its_earlier_siblings_left(organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    row(aws, service_name="AmazonS3", cost=5)
    top = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    ec2 = vql_segment(
        organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'", parent=top, priority=1
    )
    with committed():
        rest = segment_create(organization, name="The rest", parent=top, priority=2)
    top.refresh_from_db()
    assert top.status == Status.COMPLETED
    totals = {
        segment.name: SegmentMetric.objects.filter(
            segment=segment, line=Line.TOTAL, granularity=Granularity.MONTH
        ).aggregate(total=Sum("billed_cost"))["total"]
        for segment in (top, ec2, rest)
    }
    assert totals == {"AWS": 15, "EC2": 10, "The rest": 5}
    assert not SegmentMetric.objects.filter(segment=top, line=Line.UNALLOCATED).exists()
