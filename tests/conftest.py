"""Fixtures shared by every test: organizations, people, credentials and API clients."""

import os

import pytest
from rest_framework.test import APIClient

from organizations.models import Role

from .cache import clear_cache
from .factories import MembershipFactory, OrganizationFactory, UserFactory, api_token

pytest_plugins = ["tests.worker"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; ids repeat across tests, so start each one clean."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Acme")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Globex")


@pytest.fixture
def user(organization):
    person = UserFactory(username="alice")
    MembershipFactory(user=person, organization=organization, role=Role.ADMIN)
    return person


@pytest.fixture
def write_token(organization):
    return api_token(organization, scopes="read,write", name="writer")


@pytest.fixture
def read_token(organization):
    return api_token(organization, scopes="read", name="reader")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(write_token):
    """An API client authenticated with a read/write Bearer token of ``organization``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {write_token[1]}")
    return client


@pytest.fixture
def read_client(read_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_token[1]}")
    return client


@pytest.fixture
def session_client(user):
    """A signed-in person (admin of ``organization``) with CSRF checks enforced."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def other_token_client(other_organization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(other_organization)[1]}")
    return client


@pytest.fixture(scope="session", autouse=True)
def _columnar_store(tmp_path_factory):
    """Each test process keeps the cost rows' Parquet files in a temporary directory of its own;
    worker processes started by tests inherit it through the environment."""
    root = tmp_path_factory.mktemp("columnar")
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(root)
    return root
