"""The Archera segments surface: provider everywhere, structured filters, monthly metrics."""

import datetime
import uuid

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from segments.models import Segment, Status
from segments.services import system_segment_ensure

from .conftest import row


@pytest.fixture
def base(organization):
    return f"/beta/v1/org/{organization.pk}/segments"


def create(client, base, **body):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(base, body, format="json")


def test_x_api_key_lists_system_segment_first_with_monthly_metrics(
    organization, write_token, base, aws
):
    row(aws, service_name="AmazonEC2", cost=10, charge_period_start=datetime.date(2026, 9, 3))
    row(aws, service_name="AmazonS3", cost=5, charge_period_start=datetime.date(2026, 10, 3))
    client = APIClient(HTTP_X_API_KEY=write_token[1])
    with TestCase.captureOnCommitCallbacks(execute=True):
        system_segment_ensure(organization, "aws")
    create(
        client,
        base,
        name="Storage",
        provider="aws",
        filters=[{"field": "service", "op": "=", "value": "AmazonS3"}],
    )
    body = client.get(f"{base}?provider=aws").json()
    assert [s["name"] for s in body] == ["provider-resources", "Storage"]
    system, storage = body
    assert system["is_system_generated"] is True and storage["is_system_generated"] is False
    assert system["filters"] == []
    assert storage["filters"] == [{"field": "service", "op": "=", "value": "AmazonS3"}]
    assert [m["month"] for m in system["metrics"]["monthly"]] == ["2026-09", "2026-10"]
    assert [m["billed_cost"] for m in system["metrics"]["monthly"]] == [10.0, 5.0]
    assert set(system["metrics"]["monthly"][0]) == {
        "month",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "on_demand_cost",
        "committed_cost",
        "savings",
        "coverage",
        "usage_quantity",
        "resource_count",
    }
    assert storage["metrics"]["monthly"][0]["billed_cost"] == 5.0


def test_create_injects_provider_and_hides_it(token_client, base):
    response = create(
        token_client,
        base,
        name="EU",
        provider="gcp",
        description="Europe",
        filters=[{"field": "region", "op": "in", "value": ["europe-west1", "europe-west4"]}],
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] in ("new", "completed")
    assert body["provider"] == "gcp"
    assert body["filters"] == [
        {"field": "region", "op": "in", "value": ["europe-west1", "europe-west4"]}
    ]
    segment = Segment.objects.get(pk=body["id"])
    assert "provider" in str(segment.filter_tree)


def test_a_new_segment_reports_status_new_before_its_metrics(token_client, base):
    body = token_client.post(
        base, {"name": "Fresh", "provider": "aws", "filters": []}, format="json"
    ).json()
    assert body["status"] == "new"
    response = token_client.get(f"{base}/{body['id']}/metrics/daily?provider=aws")
    assert response.status_code == 409
    error = response.json()
    assert set(error) == {"message", "detail", "code"}
    assert "not ready" in error["message"]


@pytest.mark.parametrize("query", ["", "?provider=", "?provider=oracle"])
def test_provider_is_required_and_checked(token_client, base, query):
    response = token_client.get(f"{base}{query}")
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"message", "detail", "code"}
    assert "provider" in error["message"]


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"provider": "aws", "filters": []}, "name"),
        (
            {
                "name": "x",
                "provider": "aws",
                "filters": [{"field": "nope", "op": "=", "value": "a"}],
            },
            "nope",
        ),
        (
            {
                "name": "x",
                "provider": "azure",
                "filters": [{"field": "tenancy", "op": "=", "value": "dedicated"}],
            },
            "tenancy",
        ),
        (
            {
                "name": "x",
                "provider": "aws",
                "filters": [{"field": "service", "op": "~", "value": "a"}],
            },
            "~",
        ),
        ({"name": "x", "provider": "aws", "filters": "service = a"}, "filter"),
    ],
)
def test_bad_filters_are_400_and_write_nothing(token_client, base, body, fragment):
    response = token_client.post(f"{base}?provider=aws", body, format="json")
    assert response.status_code == 400, response.json()
    assert fragment in str(response.json()).lower() or fragment in str(response.json())
    assert not Segment.objects.exists()


def test_get_patch_delete(token_client, base):
    created = create(token_client, base, name="Old", provider="aws", filters=[]).json()
    url = f"{base}/{created['id']}?provider=aws"
    assert token_client.get(url).json()["name"] == "Old"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = token_client.patch(
            url,
            {"name": "New", "filters": [{"field": "region", "op": "!=", "value": "us-east-1"}]},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["filters"] == [{"field": "region", "op": "!=", "value": "us-east-1"}]
    assert token_client.patch(url, {}, format="json").status_code == 400
    assert token_client.delete(url).status_code == 204
    assert token_client.get(url).status_code == 404


def test_get_patch_delete_take_no_provider(token_client, base):
    """The seed's contract: GET by id has no query parameter; the segment's own provider is
    used, and a provider sent anyway changes nothing."""
    created = create(token_client, base, name="AWS", provider="aws", filters=[]).json()
    url = f"{base}/{created['id']}"
    assert token_client.get(url).json()["provider"] == "aws"
    assert token_client.get(f"{url}?provider=gcp").json()["provider"] == "aws"
    renamed = token_client.patch(url, {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["provider"] == "aws"
    assert token_client.get(f"{url}/metrics/daily").status_code == 200
    assert token_client.delete(url).status_code == 204
    assert token_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "filters",
    [
        # (conditions in canonical order: the shape is kept, the order is canonical)
        [
            {
                "any": [
                    {"field": "service", "op": "=", "value": "AmazonS3"},
                    {"field": "region", "op": "=", "value": "us-east-1"},
                ]
            }
        ],
        [
            {
                "any": [
                    {"field": "service", "op": "=", "value": "AmazonS3"},
                    {
                        "all": [
                            {"field": "service", "op": "=", "value": "AmazonEC2"},
                            {"field": "region", "op": "=", "value": "us-east-1"},
                        ]
                    },
                ]
            }
        ],
        [{"field": "service", "op": "contains", "value": "EC2"}],
    ],
)
def test_filters_come_back_in_the_shape_they_were_sent(token_client, base, filters):
    created = create(token_client, base, name="Shape", provider="aws", filters=filters)
    assert created.status_code == 201, created.json()
    assert created.json()["filters"] == filters
    assert token_client.get(f"{base}/{created.json()['id']}").json()["filters"] == filters


def test_error_detail_is_always_an_object_of_field_messages(token_client, base, organization):
    field_error = token_client.post(base, {"provider": "aws"}, format="json").json()
    not_found = token_client.get(f"{base}/{uuid.uuid4()}").json()
    missing_provider = token_client.get(base).json()
    immutable = token_client.delete(
        f"{base}/{system_segment_ensure(organization, 'aws').pk}"
    ).json()
    bad_filter = token_client.post(
        base, {"name": "x", "provider": "aws", "filters": [{"field": "colour"}]}, format="json"
    ).json()
    for body in (field_error, not_found, missing_provider, immutable, bad_filter):
        assert set(body) == {"message", "detail", "code"}
        assert isinstance(body["detail"], dict), body
        assert all(
            isinstance(messages, list) and all(isinstance(m, str) for m in messages)
            for messages in body["detail"].values()
        ), body
    assert "name" in field_error["detail"]
    assert not_found["detail"] == {"non_field_errors": ["Segment not found."]}


@pytest.mark.django_db(transaction=True)
def test_created_segment_with_metrics_says_completed(token_client, base, aws):
    row(aws, cost=7)
    # No test transaction around the request (as in production): the refresh runs on commit of
    # the create, eagerly, before the response is written.
    body = token_client.post(base, {"name": "AWS", "provider": "aws"}, format="json").json()
    assert body["metrics"]["monthly"][0]["billed_cost"] == 7.0
    assert body["status"] == "completed"


def test_parent_id_shows_the_hierarchy(token_client, base, organization):
    parent = create(token_client, base, name="AWS", provider="aws", filters=[]).json()
    assert parent["parent_id"] is None
    child = token_client.post(
        "/v2/segments",
        {
            "title": "EC2",
            "parent_segment_token": Segment.objects.get(pk=parent["id"]).token,
            "filter": "costs.service = 'AmazonEC2'",
        },
        format="json",
    )
    assert child.status_code == 201, child.json()
    listed = {s["name"]: s for s in token_client.get(f"{base}?provider=aws").json()}
    assert listed["EC2"]["parent_id"] == parent["id"]


def test_daily_metrics(token_client, base, aws):
    row(aws, charge_period_start=datetime.date(2026, 10, 1), cost=3)
    row(aws, charge_period_start=datetime.date(2026, 10, 2), cost=4)
    created = create(token_client, base, name="AWS", provider="aws", filters=[]).json()
    url = f"{base}/{created['id']}/metrics/daily?provider=aws"
    body = token_client.get(f"{url}&start_date=2026-10-01&end_date=2026-10-31").json()
    assert [(d["date"], d["billed_cost"]) for d in body] == [
        ("2026-10-01", 3.0),
        ("2026-10-02", 4.0),
    ]
    assert token_client.get(f"{url}&start_date=10/01/2026").status_code == 400
    assert token_client.get(f"{url}&start_date=2026-11-01&end_date=2026-10-01").status_code == 400


def test_system_segment_is_immutable(token_client, base, organization):
    system = system_segment_ensure(organization, "aws")
    url = f"{base}/{system.pk}?provider=aws"
    response = token_client.patch(url, {"name": "mine"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "system_segment_immutable"
    assert token_client.delete(url).status_code == 403
    system.refresh_from_db()
    assert system.name == "provider-resources"


def test_other_organization_is_404(token_client, other_organization, base):
    other = f"/beta/v1/org/{other_organization.pk}/segments?provider=aws"
    assert token_client.get(other).status_code == 404
    theirs = system_segment_ensure(other_organization, "aws")
    assert token_client.get(f"{base}/{theirs.pk}?provider=aws").status_code == 404
    assert token_client.get(f"/beta/v1/org/{uuid.uuid4()}/segments?provider=aws").status_code == 404


def test_filter_values(token_client, organization, base):
    response = token_client.get(f"{base}/filters?provider=aws")
    assert response.status_code == 200
    assert {
        "integration_id",
        "account_id",
        "service",
        "region",
        "operating_system",
        "tenancy",
        "instance_family",
    } <= set(response.json())
    gcp = token_client.get(f"{base}/filters?provider=gcp").json()
    assert "tenancy" not in gcp


def test_trailing_slash_accepted_without_redirect(token_client, base):
    assert token_client.get(f"{base}/?provider=aws").status_code == 200
    assert token_client.get(f"{base}/filters/?provider=aws").status_code == 200


def test_read_token_and_no_credentials(read_client, api_client, base):
    response = read_client.post(base, {"name": "x", "provider": "aws"}, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"message", "detail", "code"}
    assert api_client.get(f"{base}?provider=aws").status_code == 401


def test_status_completes_after_refresh(token_client, base):
    created = create(token_client, base, name="AWS", provider="aws", filters=[]).json()
    assert Segment.objects.get(pk=created["id"]).status == Status.COMPLETED
