"""Both segment surfaces over one model: what one creates the other shows, round-tripped
filters, and the error answers not covered per surface elsewhere."""

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from segments.models import Segment
from segments.services import system_segment_ensure

from ..factories import WorkspaceFactory, api_token
from .conftest import row

AWS = "costs.provider = 'aws'"


@pytest.fixture
def base(organization):
    return f"/beta/v1/org/{organization.pk}/segments"


def committed_call(method, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return method(*args, format="json", **kwargs)


def test_archera_segment_is_visible_and_editable_through_vantage(token_client, base):
    created = committed_call(
        token_client.post,
        base,
        {
            "name": "Compute",
            "provider": "aws",
            "filters": [{"field": "service", "op": "contains", "value": "EC2"}],
        },
    ).json()
    segment = Segment.objects.get(pk=created["id"])
    fetched = token_client.get(f"/v2/segments/{segment.token}").json()
    assert fetched["title"] == "Compute"
    assert fetched["filter"] == "costs.provider = 'aws' AND costs.service LIKE '%EC2%'"
    # Sent back unchanged (spacing aside), the filter Vantage's rules would refuse is kept.
    response = committed_call(
        token_client.put,
        f"/v2/segments/{segment.token}",
        {"title": "Compute (renamed)", "filter": fetched["filter"].replace(" AND ", "  AND ")},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["filter"] == fetched["filter"]
    # One rule for create and update: the filter read back posts back as a new segment too,
    # and any LIKE on a service is Costline's (documented) extension over Vantage's rules.
    response = committed_call(
        token_client.post, "/v2/segments", {"title": "Copy", "filter": fetched["filter"]}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["filter"] == fetched["filter"]
    response = token_client.put(
        f"/v2/segments/{segment.token}",
        {"filter": "costs.provider = 'aws' AND costs.service LIKE '%S3%'"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    # A top-level filter without costs.provider is still Vantage's 422, on create and update.
    for call, url in (
        (token_client.post, "/v2/segments"),
        (token_client.put, f"/v2/segments/{segment.token}"),
    ):
        response = call(url, {"title": "x", "filter": "costs.service LIKE '%S3%'"}, format="json")
        assert response.status_code == 422
        assert "costs.provider" in response.json()["errors"][0]


def test_every_demo_filter_posts_back_unchanged(token_client, organization):
    from segments import demo

    with TestCase.captureOnCommitCallbacks(execute=True):
        demo.load(organization, None)
    listed = token_client.get("/v2/segments?limit=1000").json()["segments"]
    assert any("LIKE" in (item["filter"] or "") for item in listed)
    tokens = {item["token"] for item in listed}
    for item in listed:
        body = {"title": f"{item['title']} copy", "filter": item["filter"]}
        if item["parent_segment_token"] in tokens:
            body["parent_segment_token"] = item["parent_segment_token"]
        response = committed_call(token_client.post, "/v2/segments", body)
        assert response.status_code == 201, (item, response.json())
        assert response.json()["filter"] == item["filter"]
        updated = committed_call(
            token_client.put, f"/v2/segments/{item['token']}", {"filter": item["filter"]}
        )
        assert updated.status_code in (200, 403), updated.json()  # 403: system segments


def test_vantage_tree_is_listed_by_archera_with_children(token_client, base, aws):
    row(aws, service_name="AmazonEC2", cost=10)
    row(aws, service_name="AmazonS3", cost=5)
    parent = committed_call(
        token_client.post, "/v2/segments", {"title": "AWS", "filter": AWS}
    ).json()
    committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Unfiltered child", "parent_segment_token": parent["token"]},
    )
    committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Everywhere", "filter": "costs.provider = 'aws' OR costs.provider = 'gcp'"},
    )
    listed = token_client.get(f"{base}?provider=aws").json()
    names = [segment["name"] for segment in listed]
    assert names == ["AWS", "Unfiltered child"]  # a two-provider segment has no provider
    assert [m["billed_cost"] for m in listed[1]["metrics"]["monthly"]] == [15.0]


def test_archera_list_query_count_does_not_grow(
    token_client, base, organization, django_assert_max_num_queries
):
    system_segment_ensure(organization, "aws")
    for index in range(12):
        committed_call(
            token_client.post, base, {"name": f"S{index}", "provider": "aws", "filters": []}
        )
    with django_assert_max_num_queries(8):
        body = token_client.get(f"{base}?provider=aws").json()
    assert len(body) == 13


def test_archera_errors_keep_their_envelope(
    token_client, read_client, api_client, base, organization
):
    created = committed_call(
        token_client.post, base, {"name": "A", "provider": "aws", "filters": []}
    ).json()
    one = f"{base}/{created['id']}"
    for response, status in [
        (token_client.put(f"{one}?provider=aws", {}, format="json"), 405),
        (token_client.get(base), 400),  # the list needs a provider; one segment does not
        (token_client.get(f"{base}/filters"), 400),
        (token_client.get(f"{base}/00000000-0000-0000-0000-000000000000?provider=aws"), 404),
        (token_client.get(f"{base}/not-a-uuid?provider=aws"), 404),
        (
            token_client.patch(f"{one}?provider=aws", {"filters": [{"field": "x"}]}, format="json"),
            400,
        ),
        (token_client.patch(f"{one}?provider=aws", {"name": ""}, format="json"), 400),
        (read_client.patch(f"{one}?provider=aws", {"name": "B"}, format="json"), 403),
        (read_client.delete(f"{one}?provider=aws"), 403),
        (api_client.get(f"{base}?provider=aws"), 401),
        (APIClient(HTTP_X_API_KEY="wrong").get(f"{base}?provider=aws"), 401),
        (token_client.get("/beta/v1/org/not-an-org/segments?provider=aws"), 404),
        (token_client.post(base, {"name": "x", "provider": "oracle"}, format="json"), 400),
    ]:
        assert response.status_code == status, (response.status_code, status, response.content)
        if response.content:
            assert set(response.json()) == {"message", "detail", "code"}, response.json()
            assert isinstance(response.json()["detail"], dict), response.json()


def test_archera_paths_answer_with_and_without_trailing_slash(token_client, base):
    created = committed_call(
        token_client.post, f"{base}/", {"name": "Slash", "provider": "aws", "filters": []}
    )
    assert created.status_code == 201
    segment_id = created.json()["id"]
    for path in (f"{base}/{segment_id}", f"{base}/{segment_id}/"):
        assert token_client.get(f"{path}?provider=aws").status_code == 200
    for path in (f"{base}/{segment_id}/metrics/daily", f"{base}/{segment_id}/metrics/daily/"):
        assert token_client.get(f"{path}?provider=aws").status_code == 200


def test_archera_daily_metrics_default_range_is_the_last_30_days(token_client, base, aws):
    import datetime

    today = datetime.date.today()
    row(aws, charge_period_start=today - datetime.timedelta(days=2), cost=3)
    row(aws, charge_period_start=today - datetime.timedelta(days=90), cost=4)
    created = committed_call(
        token_client.post, base, {"name": "AWS", "provider": "aws", "filters": []}
    ).json()
    body = token_client.get(f"{base}/{created['id']}/metrics/daily?provider=aws").json()
    assert [item["billed_cost"] for item in body] == [3.0]


def test_vantage_list_filters_by_workspace_and_title(organization, token_client):
    other = WorkspaceFactory(organization=organization)
    committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Team A", "filter": AWS, "workspace_token": organization.default_workspace.token},
    )
    committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Team B", "filter": AWS, "workspace_token": other.token},
    )
    listed = token_client.get(f"/v2/segments?workspace_token={other.token}").json()
    assert [s["title"] for s in listed["segments"]] == ["Team B"]
    assert token_client.get("/v2/segments?q=TEAM").json()["segments"][0]["title"] == "Team A"


def test_vantage_token_limited_to_a_workspace_sees_only_it(organization, token_client):
    other = WorkspaceFactory(organization=organization)
    default = organization.default_workspace.token
    committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Default", "filter": AWS, "workspace_token": default},
    )
    hidden = committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "Elsewhere", "filter": AWS, "workspace_token": other.token},
    ).json()
    _, secret = api_token(organization, workspaces=[organization.default_workspace])
    limited = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    titles = [s["title"] for s in limited.get("/v2/segments").json()["segments"]]
    assert titles == ["Default"]
    assert limited.get(f"/v2/segments/{hidden['token']}").status_code == 404


def test_vantage_put_moves_a_segment_and_refuses_child_report_settings(token_client):
    parent = committed_call(token_client.post, "/v2/segments", {"title": "P", "filter": AWS}).json()
    child = committed_call(
        token_client.post,
        "/v2/segments",
        {"title": "C", "filter": AWS, "parent_segment_token": parent["token"]},
    ).json()
    url = f"/v2/segments/{child['token']}"
    response = token_client.put(url, {"report_settings": {"include_tax": False}}, format="json")
    assert response.status_code == 400
    assert "top-level" in response.json()["errors"][0]
    moved = committed_call(
        token_client.put,
        url,
        {"parent_segment_token": None, "report_settings": {"include_tax": False}},
    )
    assert moved.status_code == 200
    assert moved.json()["parent_segment_token"] is None
    assert moved.json()["report_settings"]["include_tax"] is False
    # A child shows its top-level segment's settings.
    committed_call(token_client.put, url, {"parent_segment_token": parent["token"]})
    assert token_client.get(url).json()["report_settings"]["include_tax"] is True


def test_vantage_errors_keep_their_envelope(token_client, read_client, api_client):
    created = committed_call(
        token_client.post, "/v2/segments", {"title": "A", "filter": AWS}
    ).json()
    one = f"/v2/segments/{created['token']}"
    for response, status in [
        (token_client.post(one, {}, format="json"), 405),
        (token_client.get("/v2/segments/fltr_sgmt_0000000000000000"), 404),
        (token_client.get(f"{one}/costs?start_date=yesterday"), 400),
        (token_client.get("/v2/segments/fltr_sgmt_0000000000000000/costs"), 404),
        (token_client.put(one, {"priority": "first"}, format="json"), 400),
        (token_client.put(one, {"filter": "costs.provider = 'aws' AND"}, format="json"), 400),
        (token_client.put(one, {"title": ""}, format="json"), 400),
        (read_client.put(one, {"title": "B"}, format="json"), 403),
        (read_client.delete(one), 403),
        (api_client.get(one), 401),
        (APIClient(HTTP_AUTHORIZATION="Bearer nope").get("/v2/segments"), 401),
        (token_client.get("/v2/segments?page=0"), 400),
    ]:
        assert response.status_code == status, (response.status_code, status, response.content)
        assert list(response.json()) == ["errors"], response.json()
        assert all(isinstance(message, str) for message in response.json()["errors"])
