"""The segments admin: tree order, read-only system segments, edits through the services,
the recompute action and the read-only metrics inline."""

import pytest
from django.test import Client

from segments import services
from segments.models import Line, Segment, SegmentMetric, Status

from ..factories import UserFactory
from .conftest import committed, row, vql_segment

AWS = "costs.provider = 'aws'"
LIST = "/admin/segments/segment/"


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def change_url(segment):
    return f"{LIST}{segment.pk}/change/"


def test_list_is_in_tree_order(staff_client, organization):
    first = vql_segment(organization, "Alpha", AWS)
    second = vql_segment(organization, "Beta", AWS)
    late = vql_segment(organization, "Alpha low", AWS, parent=first, priority=2)
    early = vql_segment(organization, "Alpha high", AWS, parent=first, priority=1)
    vql_segment(organization, "Alpha high deep", AWS, parent=early)
    with committed():
        system = services.system_segment_ensure(organization, "aws")
    body = staff_client.get(LIST).content.decode()
    tokens = [system.token, first.token, early.token]
    tokens += [Segment.objects.get(name="Alpha high deep").token, late.token, second.token]
    positions = [body.index(token) for token in tokens]
    assert positions == sorted(positions)
    assert "\u2014 \u2014 Alpha high deep" in body


def test_priority_change_moves_the_segment_in_the_tree(organization):
    top = vql_segment(organization, "Top", AWS)
    a = vql_segment(organization, "A", AWS, parent=top, priority=1)
    b = vql_segment(organization, "B", AWS, parent=top, priority=2)
    with committed():
        services.segment_update(b, priority=0)
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.tree_path < a.tree_path
    assert a.tree_path.startswith(top.tree_path) and b.tree_path.startswith(top.tree_path)


def test_system_segment_is_read_only(staff_client, organization):
    system = services.system_segment_ensure(organization, "aws")
    page = staff_client.get(change_url(system))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert staff_client.post(change_url(system), {"name": "Renamed"}).status_code == 403
    assert staff_client.get(f"{LIST}{system.pk}/delete/").status_code == 403
    staff_client.post(
        LIST, {"action": "delete_selected", "_selected_action": [system.pk], "post": "yes"}
    )
    system.refresh_from_db()
    assert system.name == "provider-resources"


def form_data(segment, **changes):
    data = {
        "name": segment.name,
        "description": segment.description,
        "workspace": segment.workspace_id,
        "parent": segment.parent_id or "",
        "priority": segment.priority,
        "children-TOTAL_FORMS": 0,
        "children-INITIAL_FORMS": 0,
        "metrics-TOTAL_FORMS": 0,
        "metrics-INITIAL_FORMS": 0,
    }
    for flag in ("track_unallocated", "include_discounts", "include_tax", "amortize"):
        if getattr(segment, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_edits_go_through_the_same_checks(staff_client, organization):
    top = vql_segment(organization, "Top", AWS)
    child = vql_segment(organization, "Child", AWS, parent=top)
    response = staff_client.post(change_url(top), form_data(top, parent=child.pk))
    assert response.status_code == 200
    assert "ancestor" in response.content.decode()
    top.refresh_from_db()
    assert top.parent is None
    response = staff_client.post(change_url(child), form_data(child, amortize=""))
    assert "top-level" in response.content.decode()


def test_an_edit_saves_through_the_service(staff_client, organization):
    top = vql_segment(organization, "Top", AWS)
    child = vql_segment(organization, "Child", AWS)
    response = staff_client.post(change_url(child), form_data(child, name="Moved", parent=top.pk))
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.name, child.parent, child.status) == ("Moved", top, Status.NEW)
    assert child.tree_path.startswith(top.tree_path)


def test_recompute_action_rebuilds_metrics(staff_client, organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    top = vql_segment(organization, "AWS", AWS, track_unallocated=True)
    child = vql_segment(organization, "S3", f"{AWS} AND costs.service = 'AmazonS3'", parent=top)
    SegmentMetric.objects.all().delete()
    Segment.objects.update(status=Status.NEW)
    response = staff_client.post(
        LIST, {"action": "recompute_metrics", "_selected_action": [child.pk]}, follow=True
    )
    assert "Recomputed 1 segment tree(s)." in response.content.decode()
    assert SegmentMetric.objects.filter(segment=top, line=Line.UNALLOCATED).exists()
    assert set(Segment.objects.values_list("status", flat=True)) == {Status.COMPLETED}


def test_change_page_shows_filters_and_metric_inline(staff_client, organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    segment = vql_segment(organization, "EC2", f"{AWS} AND costs.service = 'AmazonEC2'")
    body = staff_client.get(change_url(segment)).content.decode()
    assert "costs.service = &#x27;AmazonEC2&#x27;" in body
    assert "Segment metrics" in body or "segment metric" in body.lower()
    assert staff_client.get("/admin/segments/segmentmetric/").status_code == 200
    assert staff_client.get("/admin/segments/segment/add/").status_code == 403


def test_admin_delete_removes_the_subtree(staff_client, organization):
    top = vql_segment(organization, "Top", AWS)
    vql_segment(organization, "Child", AWS, parent=top)
    response = staff_client.post(f"{LIST}{top.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Segment.objects.filter(organization=organization).exists()
