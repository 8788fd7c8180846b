"""The document tells the truth about errors and shapes, on every operation, deterministically.

Each test calls every documented operation in-process the way a client gets each error (no
credentials, a read-only token, another organization, too many requests) and validates the
answer against the document: status documented, content type, headers and body of that
surface's envelope (Vantage ``{"errors"}``, Archera ``{"message", "detail", "code"}``, DRF
``{"detail"}``). The fuzzing in test_api_fuzz.py covers generated input; this covers the answers
that generated input rarely reaches.
"""

import pytest
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.throttling import CredentialRateThrottle
from organizations.models import Role
from tests.cache import clear_cache

from ..factories import MembershipFactory, UserFactory, api_token
from .contract import (
    authenticate,
    bearer_credential,
    credential,
    load_schema,
    own_path_parameters,
    session_credential,
    sessions_only,
)

schema = load_schema()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
# Public: ping, and export files (their signed link is the credential, as a pre-signed URL's).
SECURED = [operation for operation in OPERATIONS if operation.definition.raw["security"] != [{}]]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Values for required query parameters, so that a call gets as far as its credentials are good for.
REQUIRED_QUERY = {"provider": "aws", "module": "integrations"}


def call(operation, world, credential: dict):
    """Call ``operation`` on the caller's objects and validate the answer against the document."""
    query = {
        parameter.name: REQUIRED_QUERY[parameter.name]
        for parameter in operation.query
        if parameter.name in REQUIRED_QUERY
    }
    case = operation.Case(path_parameters={}, query=query or None)
    own_path_parameters(case, world)
    response = case.call(headers=authenticate(case, credential))
    case.validate_response(response, checks=CHECKS)
    return response


def failures(operations, world, expected_status: int, credential_for) -> list[str]:
    found = []
    for operation in operations:
        clear_cache()
        try:
            response = call(operation, world, credential_for(operation))
        except AssertionError as error:  # schemathesis' FailureGroup is an AssertionError
            found.append(f"{operation.label}: {error}")
            continue
        if response.status_code != expected_status:
            found.append(f"{operation.label}: {response.status_code} {response.text[:200]}")
    return found


def test_document_covers_every_surface():
    prefixes = {"/v2/", "/beta/v1/org/", "/api/v1/", "/api/{account_id}/filter-segments/"}
    for prefix in prefixes:
        assert any(op.path.startswith(prefix) for op in OPERATIONS), prefix
    assert len(OPERATIONS) >= 50


@pytest.mark.filterwarnings("ignore")
def test_no_credentials_is_a_documented_401(world):
    assert failures(SECURED, world, 401, lambda operation: {}) == []


@pytest.mark.filterwarnings("ignore")
def test_a_token_where_only_sessions_go_is_a_documented_403(world):
    operations = [operation for operation in SECURED if sessions_only(operation)]
    assert len(operations) == 5
    assert failures(operations, world, 403, lambda operation: world["bearer"]) == []


@pytest.mark.filterwarnings("ignore")
def test_a_write_with_a_read_only_token_is_a_documented_403(world):
    operations = [
        operation
        for operation in SECURED
        if operation.method.upper() in WRITE_METHODS
        and not sessions_only(operation)
        # Validating a filter changes nothing: a read-scope token may.
        and operation.label != "POST /api/v1/filters/validate"
    ]
    assert len(operations) > 15
    assert failures(operations, world, 403, lambda operation: world["read_bearer"]) == []


@pytest.mark.filterwarnings("ignore")
def test_another_organization_gets_a_documented_404(world, other_organization):
    """Objects of the caller's organization, asked for with another organization's credentials."""
    _, secret = api_token(other_organization, scopes="read,write", name="other")
    stranger = UserFactory(username="mallory")
    MembershipFactory(user=stranger, organization=other_organization, role=Role.ADMIN)
    other = {"bearer": bearer_credential(secret), "session": session_credential(stranger)}
    operations = [
        operation
        for operation in SECURED
        if operation.path_parameters and operation.label != "GET /v2/workspaces/{workspace_token}"
    ]
    assert len(operations) > 25

    assert failures(operations, world, 404, lambda operation: credential(operation, other)) == []


@pytest.mark.filterwarnings("ignore")
def test_too_many_requests_is_a_documented_429(world, monkeypatch):
    monkeypatch.setattr(CredentialRateThrottle, "THROTTLE_RATES", {"credential": "1/hour"})
    found = []
    for operation in SECURED:
        clear_cache()
        call(operation, world, credential(operation, world))  # the one request of the hour
        try:
            response = call(operation, world, credential(operation, world))
        except AssertionError as error:
            found.append(f"{operation.label}: {error}")
            continue
        if response.status_code != 429 or not response.headers.get("retry-after"):
            found.append(f"{operation.label}: {response.status_code} {response.text[:200]}")
    assert found == []


def test_paginated_lists_are_documented_under_their_own_key():
    components = schema.raw_schema["components"]["schemas"]
    assert components["PaginatedSegmentList"]["required"] == ["links", "segments"]
    assert components["PaginatedWorkspaceList"]["required"] == ["links", "workspaces"]
    links = components["PaginatedSegmentList"]["properties"]["links"]
    assert links["properties"]["next"]["nullable"] is True
    assert "nullable" not in links["properties"]["self"]


UPLOADS = {
    "POST /api/v1/integrations/{integration_id}/imports",
    # Vantage's contract: the official client sends the CSV as multipart form data.
    "PUT /v2/business_metrics/{business_metric_token}/values.csv",
}


def test_request_bodies_are_json_except_the_uploads():
    for operation in OPERATIONS:
        media_types = {body.media_type for body in operation.body}
        if operation.label in UPLOADS:
            assert media_types == {"multipart/form-data"}, operation.label
        elif media_types:
            assert media_types == {"application/json"}, operation.label


def test_sessions_only_operations_document_the_session_only():
    for operation in OPERATIONS:
        if sessions_only(operation):
            assert operation.definition.raw["security"] == [{"SessionCookie": []}]


def test_nullable_fields_are_documented_as_such():
    components = schema.raw_schema["components"]["schemas"]
    assert components["Segment"]["properties"]["report_token"]["nullable"] is True
    assert components["ArcheraSegment"]["properties"]["description"]["nullable"] is True
