"""Schema-driven fuzzing: every documented operation, fed generated input, never answers 5xx.

schemathesis reads our own OpenAPI document and calls the WSGI app in-process with a read/write
token of an organization; responses must not be server errors and must match the documented
status codes.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application

from ..factories import api_token

# Generating the schema needs no database, so it can be loaded at collection time.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def keep_connection():
    """schemathesis calls the WSGI app directly; like Django's test client, keep the test's
    database connection (and its transaction) open across requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(organization, keep_connection):
    _, secret = api_token(organization, scopes="read,write", name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case, auth_headers, db):
    response = case.call(headers=auth_headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
