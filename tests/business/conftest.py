"""Fixtures of the business tests: imported FOCUS data, a billable metric with customers and
usage events, a cost report."""

from __future__ import annotations

import datetime

import pytest

from costs.services import focus_import, integration_create
from metrics import services as metric_services
from reports import services as report_services

from ..costs.focus_files import MONTHS, generate
from ..segments.conftest import committed


@pytest.fixture(scope="module")
def focus_file(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("business"), "aws", rows=500, seed=21, months=MONTHS)


@pytest.fixture
def imported(organization, focus_file):
    with committed():
        focus_import(integration_create(organization, "aws", "aws billing"), focus_file)
    return focus_file


@pytest.fixture
def report(organization):
    return report_services.cost_report_create(
        organization,
        workspace=organization.workspaces.first(),
        title="AWS",
        filter_tree=None,
        saved_filters=[],
        start_date=datetime.date(2026, 8, 1),
        end_date=datetime.date(2026, 9, 30),
    )


@pytest.fixture
def family(organization):
    return metric_services.product_family_create(organization, name="Platform")


@pytest.fixture
def api_calls(organization, family):
    """A SUM billable metric of API calls, split by region (a segmentation matrix)."""
    return metric_services.metric_create(
        organization,
        name="API calls",
        code="api_calls",
        aggregation_type="SUM",
        aggregation_key="calls",
        product_family_id=family.pk,
        segmentation_matrix={"key": "region", "values": ["eu", "us"]},
    )


def ingest(organization, events: list[dict]):
    """Ingest events and materialize them as a worker would, running on-commit callbacks."""
    with committed():
        result = metric_services.events_ingest(organization, events)
    with committed():
        metric_services.usage_materialize_pending(organization_id=organization.pk)
    return result
