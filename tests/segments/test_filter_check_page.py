"""The row builder's live check (segments:filter-check) answers as saving the form would."""

import pytest
from django.test import TestCase

from segments.models import Segment

from .conftest import row, vql_segment

URL = "/segments/filter-check/"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_like_on_a_region_is_accepted_by_the_check_and_by_saving(signed_in, organization, aws):
    row(aws, cost=7)
    answer = signed_in.post(URL, {"provider": "aws", "filter": "costs.region LIKE 'us-%'"}).json()
    assert answer["ok"], answer
    assert answer["vql"] == "costs.provider = 'aws' AND costs.region LIKE 'us-%'"
    assert answer["rows"] == [{"field": "region", "op": "like", "value": "us-%"}]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signed_in.post(
            "/segments/new/",
            {"name": "US", "provider": "aws", "priority": 1, "filter": "costs.region LIKE 'us-%'"},
        )
    assert response.status_code == 302


def test_a_child_without_provider_takes_its_parents(signed_in, organization, aws):
    parent = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    rows = '[{"field": "service", "op": "=", "value": "AmazonEC2"}]'
    answer = signed_in.post(URL, {"parent": parent.pk, "rows": rows}).json()
    assert answer["ok"], answer
    assert answer["provider"] == "aws"
    assert answer["vql"] == "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"


def test_rows_read_back_without_the_provider_condition(signed_in, organization):
    answer = signed_in.post(
        URL, {"filter": "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"}
    ).json()
    assert answer["provider"] == "aws"
    assert answer["rows"] == [{"field": "service", "op": "=", "value": "AmazonEC2"}]


def test_or_groups_have_no_rows(signed_in, organization):
    vql = "costs.provider = 'aws' AND (costs.service = 'A' OR costs.region = 'b')"
    answer = signed_in.post(URL, {"filter": vql}).json()
    assert answer["ok"] and answer["rows"] is None


def test_a_provider_the_filter_excludes_is_an_error_not_a_crash(signed_in, organization):
    answer = signed_in.post(URL, {"provider": "gcp", "filter": "costs.provider = 'aws'"}).json()
    assert not answer["ok"]
    assert "provider is gcp" in answer["error"]
    response = signed_in.post(
        "/segments/new/",
        {"name": "X", "provider": "gcp", "priority": 1, "filter": "costs.provider = 'aws'"},
    )
    assert response.status_code == 200
    assert "provider is gcp" in response.content.decode()
    assert not Segment.objects.filter(name="X").exists()


def test_rows_need_a_provider(signed_in, organization):
    answer = signed_in.post(URL, {"rows": '[{"field": "service", "op": "=", "value": "S"}]'})
    assert not answer.json()["ok"]
    assert "provider" in answer.json()["error"].lower()
