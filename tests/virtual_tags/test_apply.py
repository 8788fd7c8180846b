"""Applying a virtual tag: Celery after a change and after every import (statuses per
provider, the key's values as filter values, the segment trees refreshed)."""

from datetime import date
from decimal import Decimal

import pytest

from costs.models import DimensionValue
from costs.services import focus_import, integration_create
from segments.models import Granularity, Line, SegmentMetric
from tests.segments.conftest import committed, vql_segment
from virtual_tags import services
from virtual_tags.models import VirtualTagStatus

from ..costs.focus_files import generate

pytestmark = pytest.mark.django_db


def test_an_import_applies_the_tag_to_its_rows_and_refreshes_segments(organization, tmp_path):
    aws = integration_create(organization, "aws", "AWS")
    with committed():
        config = services.config_create(
            organization,
            key="Team",
            overridable=True,
            backfill_until="2026-01-01",
            values=[{"filter": "costs.provider = 'aws'", "name": "everyone"}],
        )
        segment = vql_segment(
            organization,
            "Everyone",
            "costs.provider = 'aws' AND tags.name = 'Team' AND tags.value = 'everyone'",
        )
    # No costs yet: nothing to show, the provider is complete.
    assert list(VirtualTagStatus.objects.values_list("provider", "status")) == [("aws", "complete")]
    assert not DimensionValue.objects.filter(key="Team").exists()

    with committed():
        focus_import(aws, generate(tmp_path, "aws", rows=200, seed=5, months=[date(2026, 9, 1)]))
    assert list(VirtualTagStatus.objects.values_list("provider", "status")) == [("aws", "complete")]
    assert set(
        DimensionValue.objects.filter(key="Team").values_list("billing_period_start", "value")
    ) == {(date(2026, 9, 1), "everyone")}
    total = sum(
        SegmentMetric.objects.filter(
            segment=segment, line=Line.TOTAL, granularity=Granularity.MONTH
        ).values_list("billed_cost", flat=True),
        Decimal(0),
    )
    assert total != 0
    config.refresh_from_db()
    assert config.statuses.get().status == "complete"


def test_a_failure_is_reported_per_provider(organization, monkeypatch):
    integration_create(organization, "gcp", "GCP")
    config = services.config_create(
        organization, key="Team", overridable=False, backfill_until="2026-01-01"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("store unreachable")

    monkeypatch.setattr(services, "record_dimension_values", broken)
    services.apply(config.pk)
    state = config.statuses.get()
    assert (state.provider, state.status, state.error) == ("gcp", "failed", "store unreachable")
