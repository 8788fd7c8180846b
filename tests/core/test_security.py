"""Deployment hygiene: the production configuration passes ``check --deploy``, refuses to start
without a real secret key, and every page carries a Content-Security-Policy."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_COOKIES",
    "BEHIND_TLS_PROXY",
    # Set by the browser tests' conftest for Playwright (same process under pytest-xdist); a
    # production environment never has it, and check --deploy rightly refuses it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a fresh interpreter with the given settings environment only."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_hex(32),
    "ALLOWED_HOSTS": "costs.example.com",
}


def test_check_deploy_is_clean_in_the_documented_production_configuration():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_check_deploy_flags_a_production_switched_to_plain_http():
    """The check above is not vacuous: turning a protection off is reported."""
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SECURE_SSL_REDIRECT="false"
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "costline-insecure-development-key-change-me", "short-key", "a" * 60],
    ids=["missing", "empty", "development-default", "too-short", "too-few-characters"],
)
def test_startup_is_refused_with_debug_off_and_no_real_secret_key(secret_key):
    environment = {"DEBUG": "false", "ALLOWED_HOSTS": "costs.example.com"}
    if secret_key is not None:
        environment["SECRET_KEY"] = secret_key
    result = manage("check", **environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_embedded_default_starts_with_no_environment():
    result = manage("check")
    assert result.returncode == 0, result.stderr


def test_a_page_carries_a_content_security_policy_without_inline_scripts(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"].split()[0] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_inline_scripts_carry_the_nonce_of_the_policy(session_client, organization):
    """Swagger UI is started by an inline script: it runs only with the header's nonce."""
    response = session_client.get("/api/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_pages_have_no_inline_event_handlers_or_unnonced_inline_scripts():
    """The policy forbids inline handlers; inline ``<script>`` blocks must take the nonce."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{template}: inline event handler")
        for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            if "csp_nonce" not in tag:
                offenders.append(f"{template}: {tag}")
    assert offenders == []


def test_https_settings_redirect_and_mark_https_behind_the_proxy(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31_536_000
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")
    # Load balancers probe health over plain HTTP inside the network.
    assert client.get("/health/").status_code in (200, 503)
