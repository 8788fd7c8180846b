"""The overview's figures: the comparison window, month labels, what needs attention."""

import datetime

from django.utils import timezone

from console.overview import attention, import_freshness, months_label, same_days_last_month
from costs.models import ImportJob
from segments.models import Segment, Status
from tests.factories import IntegrationFactory


def test_same_days_last_month_is_clamped_to_a_shorter_month():
    assert same_days_last_month(datetime.date(2026, 3, 31)) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )
    assert same_days_last_month(datetime.date(2026, 1, 15)) == (
        datetime.date(2025, 12, 1),
        datetime.date(2025, 12, 15),
    )


def test_months_label():
    assert months_label([]) == "–"
    assert months_label(["2026-11-01"]) == "Nov 2026"
    assert months_label(["2026-09-01", "2026-08-01"]) == "Aug 2026 to Sep 2026 (2 months)"


def test_attention_lists_missing_data_failed_imports_and_segments_not_computed(organization):
    now = timezone.now()
    empty = IntegrationFactory(organization=organization, name="Empty")
    broken = IntegrationFactory(organization=organization, name="Broken")
    ImportJob.objects.create(
        organization=organization,
        integration=broken,
        filename="x.csv",
        status=ImportJob.Status.FAILED,
        error="x.csv line 2: bad date.",
    )
    stuck = Segment.objects.create(
        organization=organization,
        workspace=organization.default_workspace,
        name="Stuck",
        status=Status.NEW,
    )
    Segment.objects.filter(pk=stuck.pk).update(updated_at=now - datetime.timedelta(hours=2))
    Segment.objects.create(
        organization=organization,
        workspace=organization.default_workspace,
        name="Fresh",
        status=Status.NEW,
    )
    items = attention(organization, now, import_freshness(organization, now))
    texts = " | ".join(item["text"] for item in items)
    assert [item["kind"] for item in items] == ["failed-import", "no-data", "segment-new"]
    assert "Broken" in texts and "bad date" in texts and empty.name in texts
    assert "Stuck" in texts and "Fresh" not in texts
