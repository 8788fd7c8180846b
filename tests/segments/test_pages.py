"""Segment pages: list, detail, create/edit with validation, delete, permissions."""

from django.test import TestCase

from organizations.models import Role
from segments.models import Segment
from segments.services import system_segment_ensure

from ..factories import MembershipFactory, UserFactory
from .conftest import row, vql_segment

AWS = "costs.provider = 'aws'"


def test_list_shows_tree_with_cost(client, user, organization, aws):
    row(aws, cost=12)
    parent = vql_segment(organization, "AWS", AWS)
    vql_segment(organization, "Child", AWS, parent=parent)
    client.force_login(user)
    response = client.get("/segments/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["segment"].name, r["depth"]) for r in rows] == [("AWS", 0), ("Child", 1)]
    assert rows[0]["last_month_cost"] == 12
    filtered = client.get("/segments/?name=chi").context["rows"]
    assert [r["segment"].name for r in filtered] == ["Child"]


def test_detail_shows_both_syntaxes_and_charts(client, user, organization, aws):
    row(aws, cost=5)
    segment = vql_segment(organization, "AWS", f"{AWS} AND costs.region = 'us-east-1'")
    client.force_login(user)
    response = client.get(f"/segments/{segment.pk}/")
    html = response.content.decode()
    assert "costs.region = &#x27;us-east-1&#x27;" in html
    assert "<td>region</td><td><code>=</code></td>" in html  # conditions as a table, not a dict
    assert response.context["monthly_chart"]["datasets"][0]["data"] == [5.0]


def test_create_with_provider_injects_it(client, user, organization):
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/segments/new/",
            {
                "name": "Storage",
                "provider": "aws",
                "priority": 10,
                "filter": "costs.service = 'AmazonS3'",
                "include_tax": "on",
                "amortize": "on",
            },
        )
    segment = Segment.objects.get(name="Storage")
    assert response.status_code == 302
    assert segment.provider == "aws"
    assert "aws" in str(segment.filter_tree)
    assert segment.include_tax and not segment.include_credits


def test_invalid_vql_is_shown_under_the_box(client, user):
    client.force_login(user)
    response = client.post(
        "/segments/new/", {"name": "Bad", "priority": 1, "filter": "costs.provider = "}
    )
    assert response.status_code == 200
    assert "column" in str(response.context["form"].errors["filter"])
    assert not Segment.objects.exists()


def test_edit_and_delete(client, user, organization):
    segment = vql_segment(organization, "Old", AWS)
    client.force_login(user)
    form = client.get(f"/segments/{segment.pk}/edit/").context["form"]
    assert form.initial["filter"] == AWS
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            f"/segments/{segment.pk}/edit/",
            {"name": "New", "priority": 3, "filter": "costs.provider = 'gcp'"},
        )
    segment.refresh_from_db()
    assert (segment.name, segment.priority, segment.provider) == ("New", 3, "gcp")
    assert client.post(f"/segments/{segment.pk}/delete/").status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_system_segment_cannot_be_edited_or_deleted(client, user, organization):
    system = system_segment_ensure(organization, "aws")
    client.force_login(user)
    client.post(f"/segments/{system.pk}/edit/", {"name": "mine", "priority": 1})
    client.post(f"/segments/{system.pk}/delete/")
    system.refresh_from_db()
    assert system.name == "provider-resources"


def test_viewer_cannot_write_and_foreign_segment_is_404(client, organization, other_organization):
    viewer = UserFactory(username="viv")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    theirs = vql_segment(other_organization, "Theirs", AWS)
    client.force_login(viewer)
    assert client.get("/segments/new/").status_code == 403
    assert client.get(f"/segments/{theirs.pk}/").status_code == 404


def test_status_partial_polls_while_new(client, user, organization):
    segment = Segment.objects.create(
        organization=organization, workspace=organization.default_workspace, name="Pending"
    )
    client.force_login(user)
    html = client.get(f"/segments/{segment.pk}/status/").content.decode()
    assert "hx-trigger" in html and "computing" in html


def test_segment_page_charts_unit_cost_of_a_metric(client, user, organization, aws):
    import datetime

    from metrics import services as metric_services

    row(aws, cost=40, charge_period_start=datetime.date(2026, 10, 3))
    segment = vql_segment(organization, "AWS", AWS)
    family = metric_services.product_family_create(organization, name="Platform")
    metric = metric_services.metric_create(
        organization,
        name="Calls",
        code="calls",
        aggregation_type="COUNT",
        product_family_id=family.pk,
    )
    customer = metric_services.customer_create(organization, name="C", external_id="c")
    metric_services.events_ingest(
        organization,
        [
            {
                "id": f"e{i}",
                "code": "calls",
                "customer_id": customer.external_id,
                "timestamp": "2026-10-05T10:00:00Z",
                "properties": {},
            }
            for i in range(8)
        ],
    )
    client.force_login(user)
    chart = client.get(f"/segments/{segment.pk}/?metric={metric.pk}").context["unit_chart"]
    october = chart["labels"].index("2026-10")
    assert chart["datasets"][0]["data"][october] == 5.0
