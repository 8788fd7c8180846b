import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from .contract import make_world


@pytest.fixture
def keep_connection():
    """schemathesis calls the WSGI app directly; like Django's test client, keep the test's
    database connection (and its transaction) open across requests (SQLite and PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(organization, user, keep_connection):
    """The caller's objects (one of each kind a path names) and its credentials."""
    return make_world(organization, user)
