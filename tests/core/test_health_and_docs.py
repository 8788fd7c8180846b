"""Health report, OpenAPI schema and Swagger UI (served offline through the sidecar)."""


def test_health_reports_each_part(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "broker", "workers"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"


def test_openapi_schema_lists_vantage_basics(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/v2/ping", "/v2/me", "/v2/workspaces", "/v2/workspaces/{workspace_token}"):
        assert path in paths
    assert "404" in paths["/v2/workspaces/{workspace_token}"]["get"]["responses"]
    assert "401" in paths["/v2/me"]["get"]["responses"]


def test_swagger_ui_is_served_from_local_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
