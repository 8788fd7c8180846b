"""The Vantage v2 segments surface: shapes, paging, errors in {"errors": [...]}, tenancy."""

import re

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from segments.models import Segment
from segments.services import system_segment_ensure

from ..factories import WorkspaceFactory, api_token
from .conftest import row

KEYS = {
    "token",
    "title",
    "parent_segment_token",
    "description",
    "track_unallocated",
    "report_settings",
    "priority",
    "filter",
    "created_at",
    "workspace_token",
    "report_token",
}
AWS = "costs.provider = 'aws'"


def create(client, **body):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/v2/segments", body, format="json")


def test_create_returns_the_segment_shape(token_client, organization):
    response = create(token_client, title="Platform", filter=AWS, priority=7)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == KEYS
    assert re.fullmatch(r"fltr_sgmt_[0-9a-f]{16}", body["token"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert body["description"] == ""
    assert body["filter"] == AWS
    assert body["priority"] == 7
    assert body["workspace_token"] == organization.default_workspace.token
    assert set(body["report_settings"]) == {
        "include_credits",
        "include_refunds",
        "include_discounts",
        "include_tax",
        "amortize",
    }


def test_report_token_is_null_until_metrics_exist(token_client, organization):
    response = token_client.post("/v2/segments", {"title": "Pending", "filter": AWS}, format="json")
    assert response.json()["report_token"] is None
    created = create(token_client, title="Done", filter=AWS).json()
    assert created["report_token"] is None or created["report_token"].startswith("rprt_")
    fetched = token_client.get(f"/v2/segments/{created['token']}").json()
    assert fetched["report_token"].startswith("rprt_")


def test_post_is_not_redirected_and_trailing_slash_is_not_a_route(token_client):
    assert create(token_client, title="A", filter=AWS).status_code == 201
    response = token_client.post("/v2/segments/", {"title": "B"}, format="json")
    assert response.status_code in (404, 405)
    assert "errors" in response.json()


def test_child_takes_parent_workspace_and_provider_is_derived(token_client, organization):
    workspace = WorkspaceFactory(organization=organization)
    parent = create(token_client, title="P", filter=AWS, workspace_token=workspace.token).json()
    child = create(
        token_client,
        title="C",
        filter=f"{AWS} AND costs.region = 'us-east-1'",
        parent_segment_token=parent["token"],
    ).json()
    assert child["parent_segment_token"] == parent["token"]
    assert child["workspace_token"] == workspace.token
    assert Segment.objects.get(token=child["token"]).provider == "aws"


@pytest.mark.parametrize(
    "body,status,fragment",
    [
        ({}, 400, "title"),
        ({"title": "x", "filter": "costs.provider = "}, 400, "column"),
        ({"title": "x", "filter": "costs.nope = 'a'"}, 422, "nope"),
        ({"title": "x", "filter": "costs.service = 'AmazonS3'"}, 422, "provider"),
        ({"title": "x", "priority": "high"}, 400, "priority"),
        ({"title": "x", "parent_segment_token": "fltr_sgmt_0000000000000000"}, 404, "arent"),
        ({"title": "x", "workspace_token": "wrkspc_0000000000000000"}, 404, "orkspace"),
    ],
)
def test_bad_input_errors(token_client, body, status, fragment):
    response = token_client.post("/v2/segments", body, format="json")
    assert response.status_code == status, response.json()
    (message, *_) = response.json()["errors"]
    assert fragment in message
    assert not Segment.objects.filter(is_system_generated=False).exists()


def test_report_settings_only_on_top_level(token_client):
    parent = create(token_client, title="P", filter=AWS).json()
    response = token_client.post(
        "/v2/segments",
        {
            "title": "C",
            "parent_segment_token": parent["token"],
            "report_settings": {"amortize": False},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "top-level" in response.json()["errors"][0]


def test_report_settings_on_a_child_are_refused_by_create_and_update_alike(token_client):
    parent = create(token_client, title="P", filter=AWS).json()
    child = create(token_client, title="C", parent_segment_token=parent["token"]).json()
    response = token_client.put(
        f"/v2/segments/{child['token']}",
        {"report_settings": {"include_tax": False}},
        format="json",
    )
    assert response.status_code == 400
    assert "top-level" in response.json()["errors"][0]
    assert Segment.objects.get(token=child["token"]).include_tax is True
    # Settings a client read back (all of them, inherited) and sends unchanged as null-free
    # values are refused too: they would not take effect on a child.
    echoed = token_client.put(
        f"/v2/segments/{child['token']}",
        {"report_settings": child["report_settings"]},
        format="json",
    )
    assert echoed.status_code == 400


def test_workspace_token_required_when_token_reaches_several(organization):
    WorkspaceFactory(organization=organization)
    _, secret = api_token(organization)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post("/v2/segments", {"title": "x", "filter": AWS}, format="json")
    assert response.status_code == 400
    assert "workspace_token" in response.json()["errors"][0]


def test_list_paging_links(token_client):
    for index in range(3):
        create(token_client, title=f"S{index}", filter=AWS)
    first = token_client.get("/v2/segments?limit=2").json()
    assert [s["title"] for s in first["segments"]] == ["S0", "S1"]
    assert first["links"]["prev"] is None
    assert first["links"]["next"] == "http://testserver/v2/segments?limit=2&page=2"
    second = token_client.get(first["links"]["next"]).json()
    assert [s["title"] for s in second["segments"]] == ["S2"]
    assert second["links"]["next"] is None
    assert token_client.get("/v2/segments?limit=1001").status_code == 400


def test_page_past_the_last_points_back_to_the_last_page(token_client):
    for index in range(3):
        create(token_client, title=f"S{index}", filter=AWS)
    body = token_client.get("/v2/segments?limit=2&page=7").json()
    assert body["segments"] == []
    assert body["links"]["next"] is None
    assert body["links"]["prev"] == "http://testserver/v2/segments?limit=2&page=2"
    assert body["links"]["last"] == "http://testserver/v2/segments?limit=2&page=2"


def test_unknown_workspace_token_on_the_list_is_404(token_client, other_organization):
    response = token_client.get("/v2/segments?workspace_token=wrkspc_0000000000000000")
    assert response.status_code == 404
    assert "Workspace not found" in response.json()["errors"][0]
    theirs = other_organization.default_workspace.token
    assert token_client.get(f"/v2/segments?workspace_token={theirs}").status_code == 404


def _three_level_tree(client, width: int) -> None:
    for top_index in range(width):
        top = create(client, title=f"T{top_index}", filter=AWS).json()
        for child_index in range(width):
            child = create(
                client, title=f"T{top_index}C{child_index}", parent_segment_token=top["token"]
            ).json()
            for leaf_index in range(width):
                create(
                    client,
                    title=f"T{top_index}C{child_index}L{leaf_index}",
                    parent_segment_token=child["token"],
                )


def test_list_query_count_does_not_grow_with_trees(token_client):
    """No N+1: the list costs the same number of queries for 2×2×2 and 3×3×3 trees."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for width in (2, 3):
        Segment.objects.all().delete()
        _three_level_tree(token_client, width)
        with CaptureQueriesContext(connection) as queries:
            body = token_client.get("/v2/segments?limit=1000").json()
        assert len(body["segments"]) == width + width**2 + width**3
        assert body["segments"][-1]["parent_segment_token"] is not None
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12


def test_list_search_and_query_count(token_client, django_assert_max_num_queries):
    for index in range(5):
        create(token_client, title=f"Team {index}", filter=AWS)
    create(token_client, title="Other", filter=AWS)
    with django_assert_max_num_queries(12):
        body = token_client.get("/v2/segments?q=team").json()
    assert len(body["segments"]) == 5


def test_update_and_delete(token_client):
    segment = create(token_client, title="Old", filter=AWS).json()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = token_client.put(
            f"/v2/segments/{segment['token']}",
            {"title": "New", "filter": "costs.provider = 'gcp'", "description": None},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    assert response.json()["filter"] == "costs.provider = 'gcp'"
    assert response.json()["description"] == ""
    response = token_client.generic(
        "DELETE", f"/v2/segments/{segment['token']}", "{}", content_type="application/json"
    )
    assert response.status_code == 204
    assert response.content == b""
    assert token_client.get(f"/v2/segments/{segment['token']}").status_code == 404


def test_cycle_is_refused(token_client):
    parent = create(token_client, title="P", filter=AWS).json()
    child = create(token_client, title="C", filter=AWS, parent_segment_token=parent["token"]).json()
    response = token_client.put(
        f"/v2/segments/{parent['token']}", {"parent_segment_token": child["token"]}, format="json"
    )
    assert response.status_code == 400
    assert "ancestor" in response.json()["errors"][0]


def test_system_segment_is_immutable(token_client, organization):
    system = system_segment_ensure(organization, "aws")
    response = token_client.put(f"/v2/segments/{system.token}", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert token_client.delete(f"/v2/segments/{system.token}").status_code == 403
    system.refresh_from_db()
    assert system.name == "provider-resources"


def test_other_organizations_segment_is_404(token_client, other_token_client):
    segment = create(other_token_client, title="Theirs", filter=AWS).json()
    for method in ("get", "put", "delete"):
        response = getattr(token_client, method)(
            f"/v2/segments/{segment['token']}", {}, format="json"
        )
        assert response.status_code == 404
        assert response.json() == {"errors": ["Segment not found."]}


def test_read_token_cannot_write(read_client):
    response = read_client.post("/v2/segments", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"errors": ["This API token has read scope only."]}


def test_unauthenticated_and_wrong_method(api_client, token_client, db):
    assert api_client.get("/v2/segments").status_code == 401
    assert api_client.get("/v2/segments").json()["errors"]
    response = token_client.patch("/v2/segments", {}, format="json")
    assert response.status_code == 405
    assert response.json()["errors"]


def test_costs_endpoint_lines(token_client, organization, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    row(aws, service_name="AmazonS3", cost=5)
    parent = create(token_client, title="AWS", filter=AWS, track_unallocated=True).json()
    create(
        token_client,
        title="EC2",
        filter=f"{AWS} AND costs.service = 'AmazonEC2'",
        parent_segment_token=parent["token"],
    )
    body = token_client.get(f"/v2/segments/{parent['token']}/costs").json()
    costs = {line["segment"]: line["points"][0]["cost"] for line in body["lines"]}
    assert costs == {"AWS": 15.0, "EC2": 10.0, "AWS (unallocated)": 5.0}
    assert (
        token_client.get(f"/v2/segments/{parent['token']}/costs?granularity=week").status_code
        == 400
    )
