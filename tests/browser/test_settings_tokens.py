"""A person signs in, creates an API token on the settings page, sees its secret exactly once."""

from rest_framework.test import APIClient


def test_create_token_shows_secret_once_and_it_works(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/settings/")
    page.fill("#token-form input[name=name]", "ci pipeline")
    page.check("#token-form input[name=scopes][value=write]")
    page.click("#token-form button[type=submit]")

    secret = page.locator("#new-token-secret").inner_text().strip()
    assert secret.startswith("cstl_")
    assert page.locator("#token-table").get_by_text("ci pipeline").count() == 1

    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v2/me").json()["bearer_token"]["scope"] == ["read", "write"]

    page.goto(f"{live_server.url}/settings/")
    assert page.locator("#new-token-secret").count() == 0
    assert secret not in page.content()


def test_reloading_after_creating_a_token_creates_no_second_one(
    signed_in_page, live_server, organization
):
    from organizations.models import ApiToken

    page = signed_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/settings/")
    page.fill("#token-form input[name=name]", "deploy")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token-secret")
    assert page.url.endswith("/settings/")
    secret = page.locator("#new-token-secret").inner_text().strip()

    page.get_by_role("button", name="Copy").click()
    page.wait_for_selector("button[data-copied]")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    page.reload()
    assert ApiToken.objects.filter(organization=organization, name="deploy").count() == 1
    assert page.locator("#new-token-secret").count() == 0
    assert page.locator("#token-table").get_by_text("deploy").count() == 1


def test_revoke_token_from_settings(signed_in_page, live_server, organization):
    from tests.factories import api_token

    token, secret = api_token(organization, name="old key")
    page = signed_in_page
    page.goto(f"{live_server.url}/settings/")
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("#token-table tr", has_text="old key")
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_selector("text=revoked")
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/v2/me").status_code == 401
