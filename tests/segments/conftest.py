import datetime
from decimal import Decimal

import pytest
from django.test import TestCase

from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..factories import CostRowFactory, IntegrationFactory


@pytest.fixture
def aws(organization):
    return IntegrationFactory(organization=organization, provider="aws", name="AWS payer")


@pytest.fixture
def gcp(organization):
    return IntegrationFactory(organization=organization, provider="gcp", name="GCP billing")


def row(integration, **fields):
    """A cost row with round numbers: billed = effective = cost, list = 1.5 × cost."""
    cost = Decimal(str(fields.pop("cost", 10)))
    defaults = {
        "billed_cost": cost,
        "effective_cost": cost,
        "list_cost": cost * Decimal("1.5"),
        "charge_period_start": datetime.date(2026, 10, 5),
    }
    defaults.update(fields)
    return CostRowFactory(integration=integration, **defaults)


def committed():
    """Run the on-commit callbacks (metric refreshes) that a test transaction would hold back."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def vql_segment(organization, name, vql, **kwargs):
    with committed():
        return segment_create(organization, name=name, filter_tree=parse_vql(vql), **kwargs)
