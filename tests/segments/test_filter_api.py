"""POST /api/v1/filters/validate: both syntaxes, errors with positions, tenancy, auth."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from ..factories import CostRowFactory, IntegrationFactory

URL = "/api/v1/filters/validate"


@pytest.fixture
def today():
    return timezone.now().date()


@pytest.fixture
def costs(organization, other_organization, today):
    aws = IntegrationFactory(organization=organization, provider="aws")
    gcp = IntegrationFactory(organization=organization, provider="gcp")
    other = IntegrationFactory(organization=other_organization, provider="aws")
    recent = today - datetime.timedelta(days=29)
    old = today - datetime.timedelta(days=30)
    CostRowFactory(
        integration=aws,
        service_name="AmazonEC2",
        billed_cost=Decimal("1.25"),
        charge_period_start=today,
    )
    CostRowFactory(
        integration=aws,
        service_name="AmazonEC2",
        billed_cost=Decimal("2.000001"),
        charge_period_start=recent,
        tags={"env": "prod"},
    )
    CostRowFactory(
        integration=aws,
        service_name="AmazonEC2",
        billed_cost=Decimal("100"),
        charge_period_start=old,
    )
    CostRowFactory(
        integration=aws,
        service_name="AmazonS3",
        billed_cost=Decimal("7"),
        charge_period_start=today,
    )
    CostRowFactory(
        integration=gcp,
        service_name="Compute Engine",
        billed_cost=Decimal("3"),
        charge_period_start=today,
    )
    CostRowFactory(
        integration=other,
        service_name="AmazonEC2",
        billed_cost=Decimal("1000"),
        charge_period_start=today,
    )


def test_vql_filter_is_validated_and_measured(token_client, costs):
    response = token_client.post(
        URL, {"vql": "costs.provider = 'aws' and costs.service = 'AmazonEC2'"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["vql"] == "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"
    assert body["filters"] == [
        {"field": "provider", "op": "=", "value": "aws"},
        {"field": "service", "op": "=", "value": "AmazonEC2"},
    ]
    assert body["tree"]["type"] == "and"
    assert body["provider"] == "aws"
    # today's and the 29-days-old row; not the 30-days-old one, not the other organization's
    assert body["matching_rows"] == 2
    assert body["matching_cost"] == 3.250001


def test_structured_filter_is_validated_and_measured(token_client, costs):
    response = token_client.post(
        URL,
        {"provider": "aws", "filters": [{"field": "tag:env", "op": "=", "value": "prod"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["filters"] == [{"field": "tag:env", "op": "=", "value": "prod"}]
    assert body["vql"] == "costs.provider = 'aws' AND tags.name = 'env' AND tags.value = 'prod'"
    assert (body["matching_rows"], body["matching_cost"]) == (1, 2.000001)


def test_filter_across_providers(token_client, costs):
    response = token_client.post(URL, {"vql": "costs.provider IN ('aws', 'gcp')"}, format="json")
    body = response.json()
    assert body["provider"] is None
    assert (body["matching_rows"], body["matching_cost"]) == (4, 13.250001)


def test_no_matching_rows(token_client, costs):
    response = token_client.post(URL, {"vql": "costs.provider = 'azure'"}, format="json")
    assert (response.json()["matching_rows"], response.json()["matching_cost"]) == (0, 0)


def test_parse_error_answers_400_with_position(token_client):
    response = token_client.post(URL, {"vql": "costs.provider = 'aws' AND AND"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["position"] == {"offset": 27, "line": 1, "column": 28}
    assert body["expected"] == ["a field name", "NOT", "'('"]
    assert body["detail"].startswith("Line 1, column 28 (offset 27): Syntax error: found 'AND'")


def test_semantic_error_names_the_field(token_client):
    response = token_client.post(
        URL, {"vql": "costs.provider = 'gcp' AND costs.tenancy = 'Shared'"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "provider_mismatch"
    assert body["field"] == "costs.tenancy"
    assert "not available for provider gcp" in body["detail"]


def test_vantage_rules_apply(token_client):
    response = token_client.post(URL, {"vql": "costs.service = 'x'"}, format="json")
    assert response.json()["code"] == "missing_provider"


def test_structured_error(token_client):
    response = token_client.post(
        URL,
        {"provider": "aws", "filters": [{"field": "colour", "op": "=", "value": "red"}]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"], body["position"]) == ("unknown_field", "colour", None)
    assert body["detail"].startswith("filters[0]: Unknown field 'colour'")


def test_structured_filters_need_a_provider(token_client):
    response = token_client.post(URL, {"filters": []}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "missing_provider"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"vql": "costs.provider = 'aws'", "filters": []},
        {"vql": "costs.provider = 'aws'", "provider": "aws"},
        {"vql": 12},
        {"filters": None, "provider": "aws"},
    ],
)
def test_bad_requests_answer_400(token_client, body):
    response = token_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_request", "parse_error")
    assert response.json()["detail"]


def test_read_token_may_validate(read_client, costs):
    response = read_client.post(URL, {"vql": "costs.provider = 'gcp'"}, format="json")
    assert response.status_code == 200
    assert response.json()["matching_rows"] == 1


def test_other_organization_sees_only_its_rows(other_token_client, costs):
    response = other_token_client.post(URL, {"vql": "costs.provider = 'aws'"}, format="json")
    assert (response.json()["matching_rows"], response.json()["matching_cost"]) == (1, 1000)


def test_signed_in_user_may_validate(user, costs):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    response = client.post(URL, {"vql": "costs.provider = 'gcp'"}, format="json")
    assert response.status_code == 200
    assert response.json()["matching_rows"] == 1


def test_credentials_are_required(api_client):
    response = api_client.post(URL, {"vql": "costs.provider = 'aws'"}, format="json")
    assert response.status_code == 401


def test_endpoint_is_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/filters/validate"]["post"]
    assert operation["operationId"] == "validateFilter"
    assert {"200", "400", "401"} <= set(operation["responses"])


@pytest.mark.parametrize(
    ("envelope_name", "expected"),
    [
        ("VANTAGE_ENVELOPE", lambda text: {"errors": [text]}),
        (
            "ARCHERA_ENVELOPE",
            lambda text: {
                "message": text,
                "detail": {"non_field_errors": [text]},
                "code": "parse_error",
            },
        ),
    ],
)
def test_an_uncaught_filter_error_is_a_400_in_each_surface_envelope(envelope_name, expected):
    from types import SimpleNamespace

    from core import errors
    from segments.filter_tree import FilterError, parse_vql

    with pytest.raises(FilterError) as caught:
        parse_vql("costs.provider = = 'aws'")
    view = SimpleNamespace(error_envelope=getattr(errors, envelope_name))
    response = errors.exception_handler(caught.value, {"view": view})
    assert response.status_code == 400
    assert response.data == expected(str(caught.value))
    assert str(caught.value).startswith("Line 1, column 18 (offset 17): Syntax error")


@pytest.mark.parametrize("depth", [40, 900, 100_000])
def test_deeply_nested_bodies_answer_400_not_500(token_client, depth):
    body = '{"provider": "aws", "filters": ' + "[" * depth + "]" * depth + "}"
    response = token_client.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_the_preview_window_reads_every_month_it_spans(organization):
    """30 days ending March 1st start on January 31st: February's rows count too."""
    import datetime

    from segments.filter_tree import parse_vql
    from segments.filter_tree.preview import matching_costs

    from ..factories import IntegrationFactory, cost_rows

    aws = IntegrationFactory(organization=organization, provider="aws")
    days = [datetime.date(2027, 1, 30), datetime.date(2027, 1, 31), datetime.date(2027, 2, 10)]
    cost_rows(aws, [{"charge_period_start": day, "billed_cost": 1} for day in days])
    cost_rows(aws, [{"charge_period_start": datetime.date(2027, 3, 1), "billed_cost": 1}])
    tree = parse_vql("costs.provider = 'aws'")
    rows, cost = matching_costs(organization, tree, today=datetime.date(2027, 3, 1))
    assert (rows, cost) == (3, 3)  # Jan 31, Feb 10, Mar 1; not Jan 30
