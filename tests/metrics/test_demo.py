"""The demo data loads and every demo metric has usage."""

import pytest
from django.utils import timezone

from metrics import demo, selectors, services

pytestmark = pytest.mark.django_db


def test_demo_metrics_have_usage(organization, user):
    demo.load(organization, user)
    today = timezone.now().date()
    for metric in selectors.metrics(organization):
        services.usage_refresh(metric, today.replace(day=1), today)
        series = selectors.usage_series(metric, organization, "month", today.replace(day=1), today)
        assert series[-1].value > 0, metric.code
    assert selectors.events(organization).count() > 1000
