"""Every way a request authenticates, and every way it is refused."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from organizations import services
from organizations.models import ApiToken, hash_secret
from organizations.tenancy import OrganizationScopedMixin

from ..factories import MembershipFactory, UserFactory, api_token

ME = "/v2/me"


def test_bearer_token_authenticates(token_client, organization):
    response = token_client.get(ME)
    assert response.status_code == 200
    assert response.json()["default_workspace_token"] == organization.default_workspace.token


def test_x_api_key_header_authenticates(write_token, organization):
    client = APIClient()
    response = client.get(ME, HTTP_X_API_KEY=write_token[1])
    assert response.status_code == 200
    assert response.json()["bearer_token"]["token"] == write_token[0].display_id


def test_no_credentials_is_401_with_challenge(api_client, db):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json() == {"errors": ["Authentication credentials were not provided."]}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(api_client, db):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Bearer cstl_nope_nope")
    assert response.status_code == 401
    assert response.json() == {"errors": ["Invalid API token."]}


def test_unsupported_scheme_is_401(api_client, db):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")
    assert response.status_code == 401


def test_revoked_token_is_401(organization):
    token, secret = api_token(organization)
    services.api_token_revoke(token)
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]


def test_expired_token_is_401(organization):
    token, secret = api_token(organization, expires_at=timezone.now() + datetime.timedelta(hours=1))
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]


def test_token_secret_is_never_stored_in_clear(organization):
    token, secret = api_token(organization)
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert secret not in {str(value) for value in stored.values()}
    assert stored["secret_hash"] == hash_secret(secret)
    assert secret.startswith(token.display_id + "_")


def test_last_used_at_is_recorded(token_client, write_token):
    assert write_token[0].last_used_at is None
    token_client.get(ME)
    write_token[0].refresh_from_db()
    assert write_token[0].last_used_at is not None


class ScopedEchoView(OrganizationScopedMixin, APIView):
    """A minimal organization-scoped view: the permission layer every API view relies on."""

    def get(self, request):
        return Response({"organization": str(self.get_organization().pk)})

    def post(self, request):
        return Response({"written": True}, status=201)


def _call(method, **headers):
    factory = APIRequestFactory()
    request = getattr(factory, method)("/api/v1/echo", {}, format="json", **headers)
    return ScopedEchoView.as_view()(request)


def test_read_scope_token_reads_but_cannot_write(read_token, organization):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {read_token[1]}"}
    assert _call("get", **auth).status_code == 200
    response = _call("post", **auth)
    assert response.status_code == 403
    assert response.data == {"detail": "This API token has read scope only."}


def test_write_scope_token_writes(write_token):
    response = _call("post", HTTP_AUTHORIZATION=f"Bearer {write_token[1]}")
    assert response.status_code == 201


def test_viewer_member_cannot_write_through_session(organization):
    person = UserFactory(username="vera")
    MembershipFactory(user=person, organization=organization, role="viewer")
    factory = APIRequestFactory()
    request = factory.post("/api/v1/echo", {}, format="json")
    force_authenticate(request, user=person)
    response = ScopedEchoView.as_view()(request)
    assert response.status_code == 403


def test_session_authenticates_and_reads(session_client):
    assert session_client.get(ME).status_code == 200


def test_session_write_without_csrf_is_403(session_client):
    response = session_client.put("/v2/me", {}, format="json")
    # PUT is not allowed on /v2/me; CSRF is checked first for unsafe methods on session auth.
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"][0]


@pytest.mark.parametrize("scopes,expected", [("read", ["read"]), ("read,write", ["read", "write"])])
def test_me_reports_token_scopes(organization, scopes, expected):
    _, secret = api_token(organization, scopes=scopes)
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.json()["bearer_token"]["scope"] == expected


def test_viewer_member_has_read_scope_in_me(organization):
    person = UserFactory(username="victor")
    MembershipFactory(user=person, organization=organization, role="viewer")
    client = APIClient()
    client.force_login(person)
    assert client.get(ME).json()["bearer_token"]["scope"] == ["read"]
