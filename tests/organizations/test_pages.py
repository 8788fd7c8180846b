"""Pages of the organizations app: sign-in, settings (tokens), organization switcher, admin."""

from django.test import Client

from organizations.models import ApiToken, Role

from ..factories import MembershipFactory, OrganizationFactory, UserFactory, api_token


def test_pages_require_sign_in(client, db):
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_renders(client, db):
    assert client.get("/accounts/login/").status_code == 200


def test_admin_creates_token_and_sees_secret_once(client, user, organization):
    client.force_login(user)
    response = client.post("/settings/", {"name": "deploy", "scopes": ["read"]}, follow=True)
    assert response.redirect_chain == [("/settings/", 302)]
    secret = response.context["new_secret"]
    token = ApiToken.objects.get(name="deploy")
    assert secret.startswith(token.display_id)
    assert secret in response.content.decode()
    assert secret not in client.get("/settings/").content.decode()


def test_token_form_errors_are_shown(client, user):
    client.force_login(user)
    response = client.post("/settings/", {"name": "", "scopes": []})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"name", "scopes"}
    assert not ApiToken.objects.exists()


def test_viewer_cannot_create_or_revoke_tokens(client, organization):
    viewer = UserFactory(username="vic")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    token, _ = api_token(organization)
    client.force_login(viewer)
    assert client.get("/settings/").status_code == 200
    assert client.post("/settings/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_admin_revokes_token(client, user, organization):
    token, _ = api_token(organization)
    client.force_login(user)
    response = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_cannot_revoke_another_organizations_token(client, user, other_organization):
    token, _ = api_token(other_organization)
    client.force_login(user)
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404


def test_switcher_changes_current_organization(client, user, organization):
    second = OrganizationFactory(name="Zeta")
    MembershipFactory(user=user, organization=second, role=Role.VIEWER)
    client.force_login(user)
    assert client.get("/settings/").context["organization"] == organization
    response = client.post(
        "/organizations/switch/", {"organization": str(second.pk), "next": "/settings/"}
    )
    assert response["Location"] == "/settings/"
    assert client.get("/settings/").context["organization"] == second


def test_switcher_refuses_foreign_organization(client, user, other_organization):
    client.force_login(user)
    response = client.post("/organizations/switch/", {"organization": str(other_organization.pk)})
    assert response.status_code == 404


def test_switcher_ignores_offsite_next(client, user, organization):
    client.force_login(user)
    response = client.post(
        "/organizations/switch/", {"organization": str(organization.pk), "next": "//evil.example"}
    )
    assert response["Location"] == "/"


def test_admin_site_lists_every_tenancy_model(db):
    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    for path in ("organization", "workspace", "membership", "apitoken"):
        assert client.get(f"/admin/organizations/{path}/").status_code == 200


def test_admin_creates_token_with_secret_shown_once(db, organization):
    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    response = client.post(
        "/admin/organizations/apitoken/add/",
        {"organization": str(organization.pk), "name": "from admin", "scopes": '["read"]'},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    token = ApiToken.objects.get(name="from admin")
    assert any(token.display_id in m and "shown once" in m for m in messages)
