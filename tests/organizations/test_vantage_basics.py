"""GET /v2/ping, /v2/me, /v2/workspaces: shapes of the Vantage v2 reference types."""

import re

import pytest
from rest_framework.test import APIClient

from tests.cache import clear_cache

from ..factories import WorkspaceFactory, api_token

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
WORKSPACE_KEYS = {
    "token",
    "name",
    "created_at",
    "enable_currency_conversion",
    "currency",
    "exchange_rate_date",
}


def test_ping_answers_200_without_credentials(api_client, db):
    assert api_client.get("/v2/ping").status_code == 200


def test_me_shape(token_client, organization, write_token):
    body = token_client.get("/v2/me").json()
    assert set(body) == {"default_workspace_token", "workspaces", "bearer_token"}
    assert body["default_workspace_token"] == organization.default_workspace.token
    assert [w["token"] for w in body["workspaces"]] == [organization.default_workspace.token]
    bearer = body["bearer_token"]
    assert bearer["token"] == write_token[0].display_id
    assert bearer["scope"] == ["read", "write"]
    assert bearer["description"] == "writer"
    assert ISO_Z.match(bearer["created_at"])


def test_workspace_shape(token_client, organization):
    body = token_client.get("/v2/workspaces").json()
    (workspace,) = body["workspaces"]
    assert set(workspace) == WORKSPACE_KEYS
    assert workspace["token"].startswith("wrkspc_") and len(workspace["token"]) == 23
    assert re.fullmatch(r"wrkspc_[0-9a-f]{16}", workspace["token"])
    assert ISO_Z.match(workspace["created_at"])
    assert workspace["enable_currency_conversion"] is False
    assert workspace["currency"] == "USD"
    assert workspace["exchange_rate_date"] == "daily"


def test_workspaces_pagination_links(token_client, organization):
    for index in range(4):
        WorkspaceFactory(organization=organization, name=f"Team {index}")
    first = token_client.get("/v2/workspaces?limit=2").json()
    links = first["links"]
    assert len(first["workspaces"]) == 2
    assert links["self"] == "http://testserver/v2/workspaces?limit=2"
    assert links["first"] == "http://testserver/v2/workspaces?limit=2&page=1"
    assert links["prev"] is None
    assert links["next"] == "http://testserver/v2/workspaces?limit=2&page=2"
    assert links["last"] == "http://testserver/v2/workspaces?limit=2&page=3"
    last = token_client.get(links["last"]).json()
    assert len(last["workspaces"]) == 1
    assert last["links"]["next"] is None
    assert last["links"]["prev"] == "http://testserver/v2/workspaces?limit=2&page=2"
    tokens = [
        w["token"]
        for p in (1, 2, 3)
        for w in token_client.get(f"/v2/workspaces?limit=2&page={p}").json()["workspaces"]
    ]
    assert len(set(tokens)) == 5


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "page=0", "page=x", "limit=-3"])
def test_bad_paging_is_400_in_vantage_envelope(token_client, query):
    response = token_client.get(f"/v2/workspaces?{query}")
    assert response.status_code == 400
    (message,) = response.json()["errors"]
    assert message.split(":")[0] in ("limit", "page")


def test_limit_1000_is_allowed(token_client):
    assert token_client.get("/v2/workspaces?limit=1000").status_code == 200


def test_workspace_search_by_name(token_client, organization):
    WorkspaceFactory(organization=organization, name="Platform")
    names = [w["name"] for w in token_client.get("/v2/workspaces?q=plat").json()["workspaces"]]
    assert names == ["Platform"]


def test_get_workspace_by_token(token_client, organization):
    token = organization.default_workspace.token
    response = token_client.get(f"/v2/workspaces/{token}")
    assert response.status_code == 200
    assert response.json()["token"] == token


def test_other_organizations_workspace_is_404(token_client, other_organization):
    token = other_organization.default_workspace.token
    response = token_client.get(f"/v2/workspaces/{token}")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Workspace not found."]}


def test_token_restricted_to_a_workspace_sees_only_it(organization):
    extra = WorkspaceFactory(organization=organization, name="Restricted")
    _, secret = api_token(organization, workspaces=[extra])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    tokens = [w["token"] for w in client.get("/v2/workspaces").json()["workspaces"]]
    assert tokens == [extra.token]
    default = organization.default_workspace.token
    assert client.get(f"/v2/workspaces/{default}").status_code == 404


def test_unknown_v2_path_is_404_in_vantage_envelope(token_client):
    response = token_client.get("/v2/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not found."]}


def test_wrong_method_is_405_in_vantage_envelope(token_client):
    response = token_client.delete("/v2/workspaces", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"errors": ['Method "DELETE" not allowed.']}


def test_rate_limit_is_429_with_retry_after(token_client, settings):
    from rest_framework.settings import api_settings

    from core.throttling import CredentialRateThrottle

    original = CredentialRateThrottle.THROTTLE_RATES
    CredentialRateThrottle.THROTTLE_RATES = {
        **api_settings.DEFAULT_THROTTLE_RATES,
        "credential": "2/min",
    }
    try:
        clear_cache()
        statuses = [token_client.get("/v2/me").status_code for _ in range(3)]
        response = token_client.get("/v2/me")
    finally:
        CredentialRateThrottle.THROTTLE_RATES = original
    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["errors"][0].lower()
