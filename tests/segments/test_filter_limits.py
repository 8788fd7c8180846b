"""Structured (JSON) filters obey the limits of VQL: characters and conditions, checked before
any tree is built, answered with a 400 naming the filter, and nothing written."""

import pytest

from segments.filter_tree import FilterError, parse_structured
from segments.filter_tree.structured import MAX_CONDITIONS
from segments.filter_tree.vql import MAX_LENGTH
from segments.models import Segment

CONDITION = {"field": "region", "op": "=", "value": "us-east-1"}
TOO_MANY = [CONDITION] * 20_000
LONG_VALUE = [{"field": "region", "op": "=", "value": "x" * (MAX_LENGTH + 1)}]
MANY_VALUES = [{"field": "region", "op": "in", "value": [""] * 200_000}]
NESTED_MANY = [{"any": [{"all": [CONDITION] * 300}, {"all": [CONDITION] * 300}]}]


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        (TOO_MANY, f"more than {MAX_CONDITIONS} conditions"),
        (NESTED_MANY, f"more than {MAX_CONDITIONS} conditions"),
        (LONG_VALUE, f"more than {MAX_LENGTH:,} characters; the limit is"),
        (MANY_VALUES, f"more than {MAX_LENGTH:,} characters; the limit is"),
    ],
)
def test_parse_refuses_filters_past_the_limits(filters, fragment):
    with pytest.raises(FilterError) as error:
        parse_structured(filters, "aws")
    assert error.value.code == "too_long"
    assert fragment in error.value.message


def test_filters_at_the_limit_still_parse():
    assert parse_structured([CONDITION] * MAX_CONDITIONS, "aws") is not None


@pytest.mark.parametrize("filters", [TOO_MANY, LONG_VALUE, MANY_VALUES])
def test_archera_create_answers_400_naming_the_filters(token_client, organization, filters):
    response = token_client.post(
        f"/beta/v1/org/{organization.pk}/segments?provider=aws",
        {"name": "Huge", "provider": "aws", "filters": filters},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"message", "detail", "code"}
    assert body["message"].startswith("filters: more than")
    assert body["code"] == "too_long"
    assert not Segment.objects.filter(name="Huge").exists()


def test_archera_update_answers_400_and_keeps_the_filter(token_client, organization):
    base = f"/beta/v1/org/{organization.pk}/segments"
    created = token_client.post(
        f"{base}?provider=aws",
        {"name": "Small", "provider": "aws", "filters": [CONDITION]},
        format="json",
    ).json()
    before = Segment.objects.get(pk=created["id"]).filter_tree
    response = token_client.patch(f"{base}/{created['id']}", {"filters": TOO_MANY}, format="json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("filters: more than")
    assert Segment.objects.get(pk=created["id"]).filter_tree == before


def test_validate_endpoint_answers_400_for_a_huge_structured_filter(token_client):
    response = token_client.post(
        "/api/v1/filters/validate", {"provider": "aws", "filters": TOO_MANY}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_long"
    assert body["detail"] == f"filters: more than {MAX_CONDITIONS} conditions; the limit is 500."
