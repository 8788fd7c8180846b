"""/v2/tags and /v2/tags/{key}/values: from the dimension-value table, never the cost rows."""

import datetime

import pytest

from costs.models import DimensionField, DimensionValue

from ..factories import IntegrationFactory


def tag(integration, key, value, month=datetime.date(2026, 8, 1)):
    DimensionValue.objects.create(
        organization=integration.organization,
        provider=integration.provider,
        integration=integration,
        billing_period_start=month,
        field=DimensionField.TAG,
        key=key,
        value=value,
    )


@pytest.fixture
def tagged(organization):
    aws = IntegrationFactory(organization=organization, provider="aws", name="AWS")
    gcp = IntegrationFactory(organization=organization, provider="gcp", name="GCP")
    tag(aws, "env", "prod")
    tag(aws, "env", "prod", datetime.date(2026, 9, 1))
    tag(aws, "env", "dev")
    tag(gcp, "env", "prod")
    tag(gcp, "team", "data")
    tag(aws, "aws:createdBy", "root")
    return aws, gcp


def test_tags_list_keys_with_their_providers(token_client, tagged, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        body = token_client.get("/v2/tags").json()
    assert body["tags"] == [
        {"tag_key": "aws:createdBy", "hidden": False, "preferred": False, "providers": ["aws"]},
        {"tag_key": "env", "hidden": False, "preferred": False, "providers": ["aws", "gcp"]},
        {"tag_key": "team", "hidden": False, "preferred": False, "providers": ["gcp"]},
    ]
    assert body["links"]["prev"] is None
    gcp_only = token_client.get("/v2/tags?providers=gcp&sort_direction=desc").json()["tags"]
    assert [item["tag_key"] for item in gcp_only] == ["team", "env"]
    searched = token_client.get("/v2/tags?search_query=EN").json()["tags"]
    assert [item["tag_key"] for item in searched] == ["env"]
    paged = token_client.get("/v2/tags?limit=2&page=2").json()
    assert [item["tag_key"] for item in paged["tags"]] == ["team"]


def test_tag_values(token_client, tagged):
    body = token_client.get("/v2/tags/env/values").json()
    assert body["tag_values"] == [
        {"tag_value": "dev", "providers": ["aws"]},
        {"tag_value": "prod", "providers": ["aws", "gcp"]},
    ]
    colon = token_client.get("/v2/tags/aws:createdBy/values").json()["tag_values"]
    assert colon == [{"tag_value": "root", "providers": ["aws"]}]
    assert token_client.get("/v2/tags/nope/values").status_code == 404


def test_another_organizations_tags_are_not_seen(other_token_client, tagged):
    assert other_token_client.get("/v2/tags").json()["tags"] == []
    response = other_token_client.get("/v2/tags/env/values")
    assert response.status_code == 404
    assert response.json()["errors"]


def test_bad_sort_direction(token_client, db):
    response = token_client.get("/v2/tags?sort_direction=up")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("sort_direction:")
