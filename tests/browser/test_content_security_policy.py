"""Pages work under the Content-Security-Policy: the browser refuses nothing they need."""

import pytest

PAGES = [
    "/segments/",
    "/costs/",
    "/metrics/",
    "/saved-views/",
    "/settings/",
    "/api/docs/",
    "/api/redoc/",
]


@pytest.mark.browser
def test_pages_raise_no_content_security_policy_violations(signed_in_page, live_server):
    page = signed_in_page
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    # Swagger UI is started by an inline script: it rendered, so the nonce was accepted.
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    assert violations == []
