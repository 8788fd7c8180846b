"""Health report, OpenAPI schema and Swagger UI (served offline through the sidecar)."""

import re
from html.parser import HTMLParser


def test_health_tells_anonymous_callers_only_up_or_down(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # A wrong token is anonymous too (no 401 that would reveal how tokens are checked).
    response = client.get("/health/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.json() == {"status": "ok"}


def test_health_reports_each_part_to_a_token(token_client):
    response = token_client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "broker", "workers", "queue", "work"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"
    work = body["checks"]["work"]
    assert work["status"] == "ok"
    assert work["imports_stuck"] == work["segment_refreshes_stuck"] == 0


def test_health_reports_each_part_to_staff_but_not_to_other_people(client, user):
    client.force_login(user)
    assert client.get("/health/").json() == {"status": "ok"}
    user.is_staff = True
    user.save()
    assert "checks" in client.get("/health/").json()


def test_health_hides_details_from_a_revoked_token(client, write_token):
    from organizations.services import api_token_revoke

    token, secret = write_token
    assert "checks" in client.get("/health/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    api_token_revoke(token)
    assert client.get("/health/", HTTP_AUTHORIZATION=f"Bearer {secret}").json() == {"status": "ok"}


def test_health_reports_stuck_import_jobs(token_client, organization, settings):
    from datetime import timedelta

    from django.utils import timezone

    from costs import services
    from costs.models import ImportJob

    integration = services.integration_create(organization, "aws")
    job = services.import_job_create(integration, paths=["/nonexistent.csv"])
    long_ago = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS + 60)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    body = token_client.get("/health/").json()
    assert body["status"] == "degraded"
    assert body["checks"]["work"]["status"] == "error"
    assert body["checks"]["work"]["imports_stuck"] == 1
    assert body["checks"]["work"]["imports_running"] == 1


def test_openapi_schema_lists_vantage_basics(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/v2/ping", "/v2/me", "/v2/workspaces", "/v2/workspaces/{workspace_token}"):
        assert path in paths
    assert "404" in paths["/v2/workspaces/{workspace_token}"]["get"]["responses"]
    assert "401" in paths["/v2/me"]["get"]["responses"]


class _AssetUrls(HTMLParser):
    """Every ``src`` and ``href`` of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls.extend(value for name, value in attrs if name in ("src", "href") and value)


def test_swagger_ui_is_served_from_local_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    parser = _AssetUrls()
    parser.feed(html)
    # The schema the page loads is named in its inline script.
    urls = [*parser.urls, *re.findall(r'\burl: "([^"]*)"', html)]
    names = {url.rsplit("/", 1)[-1] for url in urls}
    assert {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"} <= names
    assert "/api/schema/" in urls
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE), (
        "the page must not load anything from another host"
    )
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert body.strip(), url
