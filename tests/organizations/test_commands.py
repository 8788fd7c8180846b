"""Management commands: the last line of stdout is the identifier or secret; bad input fails."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from organizations.models import ApiToken, Membership, Organization, hash_secret


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().rstrip("\n").split("\n")


def test_create_org_last_line_is_the_id(db):
    lines = run("create_org", "Initech")
    organization = Organization.objects.get(pk=uuid.UUID(lines[-1]))
    assert organization.name == "Initech"
    assert organization.default_workspace is not None


def test_create_org_with_admin_user(db):
    lines = run("create_org", "Initech", "--admin-user", "peter", "--password", "s3cret")
    membership = Membership.objects.get(organization_id=lines[-1])
    assert membership.user.username == "peter"
    assert membership.role == "admin"
    assert membership.user.check_password("s3cret")


def test_create_org_rejects_empty_name(db):
    with pytest.raises(CommandError, match="must not be empty"):
        run("create_org", "  ")


def test_create_org_password_without_user(db):
    with pytest.raises(CommandError, match="--admin-user"):
        run("create_org", "X", "--password", "pw")


def test_create_api_token_last_line_is_the_secret(organization):
    lines = run(
        "create_api_token", "--org", str(organization.pk), "--name", "ci", "--scopes", "read,write"
    )
    secret = lines[-1]
    token = ApiToken.objects.get(secret_hash=hash_secret(secret))
    assert token.scopes == ["read", "write"]
    assert token.organization == organization


def test_create_api_token_with_workspace(organization):
    workspace = organization.default_workspace
    lines = run(
        "create_api_token",
        "--org",
        str(organization.pk),
        "--name",
        "ws",
        "--workspace",
        workspace.token,
    )
    token = ApiToken.objects.get(secret_hash=hash_secret(lines[-1]))
    assert list(token.workspaces.all()) == [workspace]
    assert token.scopes == ["read"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--org", "not-a-uuid", "--name", "x"], "not found"),
        (["--org", str(uuid.uuid4()), "--name", "x"], "not found"),
        (["--name", "x", "--scopes", "admin"], "Unknown scope 'admin'"),
        (["--name", "x", "--workspace", "wrkspc_0000000000000000"], "Workspace"),
        (["--name", " "], "must not be empty"),
    ],
)
def test_create_api_token_bad_input(organization, args, message):
    if "--org" not in args:
        args = ["--org", str(organization.pk), *args]
    with pytest.raises(CommandError, match=message):
        run("create_api_token", *args)
    assert not ApiToken.objects.exists()


def test_load_demo_is_repeatable_and_ends_with_a_working_token(db):
    from rest_framework.test import APIClient

    first = run("load_demo")
    second = run("load_demo")
    assert Organization.objects.filter(name="Demo Co").count() == 1
    assert first[-1] != second[-1]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {second[-1]}")
    assert client.get("/v2/me").status_code == 200
    old = APIClient(HTTP_AUTHORIZATION=f"Bearer {first[-1]}")
    assert old.get("/v2/me").status_code == 401
    assert any("demo / demo" in line for line in second)
    # The demo's virtual tags split the shared network cost between teams.
    teams = client.get(
        "/v2/costs",
        {
            "filter": "costs.provider = 'aws'",
            "groupings": "tag:Team",
            "date_interval": "last_3_months",
        },
    ).json()["costs"]
    assert {"team-platform", "team-data", "team-payments"} <= {cost["tag"] for cost in teams}
    assert client.get("/v2/virtual_tag_configs").json()["virtual_tag_configs"][0]["key"] == (
        "Cost Center"
    )
    # Budgets, business metrics and alerts have something to show.
    assert [b["name"] for b in client.get("/v2/budgets").json()["budgets"]] == ["AWS monthly"]
    metrics = client.get("/v2/business_metrics").json()["business_metrics"]
    assert [m["title"] for m in metrics] == ["API requests by customer"]
    assert len(client.get("/v2/anomaly_notifications").json()["anomaly_notifications"]) == 1
