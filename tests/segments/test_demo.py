"""The demo segments: computed synchronously, with a three-level tree that adds up."""

from datetime import date

import pytest
from django.db.models import Sum

from config.celery import app as celery_app
from costs import services as cost_services
from segments import demo, selectors
from segments.models import Granularity, Line, Segment, SegmentMetric, Status

from .conftest import committed


def total(segment, line=Line.TOTAL, field="billed_cost"):
    value = SegmentMetric.objects.filter(
        segment=segment, line=line, granularity=Granularity.MONTH
    ).aggregate(value=Sum(field))["value"]
    # SQLite sums decimals as floats: compare at the 6 decimals the APIs show.
    return round(value or 0, 6)


@pytest.fixture
def no_eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous


def test_demo_segments_are_computed_even_without_a_worker(organization, user, no_eager_celery):
    # Refreshes queue up for a worker that is not there; the demo still computes its figures.
    with committed():
        cost_services.demo_data_load(organization, today=date(2026, 11, 15))
        demo.load(organization, user)
    segments = {
        segment.name: segment for segment in Segment.objects.filter(organization=organization)
    }
    assert {segment.status for segment in segments.values()} == {Status.COMPLETED}
    platform = segments["Platform by environment"]
    system = Segment.objects.get(
        organization=organization, provider="aws", is_system_generated=True
    )
    # The tree takes all AWS costs, like provider-resources, and counts the same resources.
    assert total(platform) == total(system)
    assert total(platform, field="resource_count") == total(system, field="resource_count")
    prod = segments["Prod"]
    assert total(prod) == (
        total(segments["Prod compute"])
        + total(segments["Prod storage"])
        + total(prod, Line.UNALLOCATED)
    )
    for name in ("EU regions", "Linux EC2", "Azure data services"):
        assert selectors.monthly_metrics([segments[name].pk])[segments[name].pk], name
    assert segments["Compute across clouds"].provider is None
