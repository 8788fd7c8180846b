"""Daily usage materialization: dirty days, the debounced task, beat, and reads that never
rescan raw events."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from core import background
from metrics import selectors, services, tasks
from metrics.models import UsageDaily, UsageDailyDistinct, UsageDirtyDay, UsageEvent
from metrics.services import materialize
from tests.metrics.conftest import date, event, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """Record the task's enqueues instead of running them."""
    calls = []
    monkeypatch.setattr(tasks.materialize_usage, "apply_async", lambda *a, **kw: calls.append(kw))
    return calls


def test_services_enqueue_the_materialization_task_by_its_registered_name():
    # The services name the task (metrics.tasks imports them); the name finds the task itself.
    assert (
        background.task(materialize.MATERIALIZE_TASK)
        is tasks.materialize_usage._get_current_object()
    )


def test_ingest_marks_each_code_customer_and_day_dirty(
    organization, customer, other_customer, make_metric
):
    ingest(
        organization,
        [
            event(1, customer, "2026-03-01"),
            event(2, customer, "2026-03-01", "23:00:00"),
            event(3, customer, "2026-03-02"),
            event(4, other_customer, "2026-03-01"),
            event(5, customer, "2026-03-01", code="other"),
        ],
    )
    assert set(UsageDirtyDay.objects.values_list("code", "customer_id", "day")) == {
        ("api_calls", customer.pk, date("2026-03-01")),
        ("api_calls", customer.pk, date("2026-03-02")),
        ("api_calls", other_customer.pk, date("2026-03-01")),
        ("other", customer.pk, date("2026-03-01")),
    }


def test_committed_ingest_runs_the_task_which_materializes(
    organization, customer, make_metric, django_capture_on_commit_callbacks
):
    metric = make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    with django_capture_on_commit_callbacks(execute=True):
        ingest(
            organization,
            [event(i, customer, "2026-03-01", code="calls", n=i) for i in range(1, 4)],
        )
    assert not UsageDirtyDay.objects.exists()
    row = UsageDaily.objects.get(metric=metric)
    assert (row.day, row.event_count, row.value_sum) == (date("2026-03-01"), 3, 1 + 2 + 3)


def test_bursts_of_ingests_enqueue_one_task(
    organization, customer, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(organization, [event(1, customer, "2026-03-01")])
    with django_capture_on_commit_callbacks(execute=True):
        ingest(organization, [event(2, customer, "2026-03-02")])
    assert enqueued == [
        {
            "kwargs": {"organization_id": str(organization.pk)},
            "countdown": services.MATERIALIZE_DEBOUNCE_SECONDS,
        }
    ]
    # The run lifts the debounce, so the next ingest enqueues again.
    services.usage_materialize_run(str(organization.pk))
    with django_capture_on_commit_callbacks(execute=True):
        ingest(organization, [event(3, customer, "2026-03-03")])
    assert len(enqueued) == 2


def test_a_broker_outage_does_not_fail_the_ingest(
    organization, customer, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.materialize_usage, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(organization, [event(1, customer, "2026-03-01")])
    assert result.accepted == 1
    assert UsageDirtyDay.objects.count() == 1  # beat will drain it


def test_beat_drains_every_organization(organization, other_organization, customer, make_metric):
    make_metric(code="calls")
    elsewhere = services.customer_create(other_organization, name="G", external_id="g")
    ingest(organization, [event(1, customer, "2026-03-01", code="calls")])
    ingest(other_organization, [event(1, elsewhere, "2026-03-01", code="calls")])
    assert settings.CELERY_BEAT_SCHEDULE["metrics-materialize-usage"]["task"] == (
        tasks.materialize_usage.name
    )
    assert tasks.materialize_usage.apply().get() == 2
    assert not UsageDirtyDay.objects.exists()


def test_a_run_that_fills_its_batch_enqueues_the_next(
    organization, customer, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(materialize, "MATERIALIZE_BATCH", 2)
    ingest(organization, [event(i, customer, f"2026-03-0{i}") for i in range(1, 4)])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.usage_materialize_run(str(organization.pk)) == 2
    assert enqueued == [{"kwargs": {"organization_id": str(organization.pk)}}]
    assert services.usage_materialize_run(str(organization.pk)) == 1


def test_a_metric_created_after_its_events_is_materialized_from_them(
    organization, customer, make_metric
):
    ingest(organization, [event(i, customer, "2026-03-0" + str(i), code="late") for i in (1, 2)])
    services.usage_materialize_pending()  # nothing to compute yet: no metric has the code
    assert not UsageDirtyDay.objects.exists()
    metric = make_metric(code="late")
    assert UsageDirtyDay.objects.count() == 2
    services.usage_refresh(metric, date("2026-03-01"), date("2026-03-31"))
    totals = selectors.usage_series(
        metric, organization, "month", date("2026-03-01"), date("2026-03-31")
    )
    assert [p.value for p in totals] == [2]


def test_usage_reads_materialized_rows_only(organization, customer, make_metric):
    metric = make_metric(code="mau", aggregation_type="COUNT_DISTINCT", aggregation_key="user")
    ingest(organization, [event(u, customer, "2026-03-01", code="mau", user=u) for u in "abc"])
    services.usage_materialize_pending()
    assert UsageDailyDistinct.objects.filter(metric=metric).count() == 3
    # With the raw events gone, the figure still comes back: nothing rescans them.
    UsageEvent.objects.all().delete()
    series = selectors.usage_series(
        metric, organization, "day", date("2026-03-01"), date("2026-03-01")
    )
    assert [p.value for p in series] == [3]


def test_recomputing_a_day_is_idempotent(organization, customer, make_metric):
    metric = make_metric(
        code="calls",
        aggregation_type="SUM",
        aggregation_key="n",
        segmentation_matrix={"key": "r", "values": ["a"]},
    )
    ingest(
        organization,
        [event(i, customer, "2026-03-01", code="calls", n=i, r="a") for i in range(5)],
    )
    for _ in range(2):
        UsageDirtyDay.objects.get_or_create(
            organization=organization,
            code="calls",
            customer=customer,
            day=datetime.date(2026, 3, 1),
            defaults={"marked_at": timezone.now()},
        )
        assert services.usage_materialize_pending() == 1
    [row] = UsageDaily.objects.filter(metric=metric)
    assert (row.event_count, row.value_sum) == (5, sum(range(5)))


def test_one_transaction_recomputes_many_days_and_customers(
    organization, customer, other_customer, make_metric, monkeypatch
):
    monkeypatch.setattr(materialize, "MATERIALIZE_TRANSACTION", 3)
    metric = make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    raw = [
        (who, f"2026-03-0{day}", day * 10 + i)
        for who in (customer, other_customer)
        for day in (1, 2, 3)
        for i in range(2)
    ]
    ingest(
        organization, [event(f"{who.pk}-{n}", who, day, code="calls", n=n) for who, day, n in raw]
    )
    assert services.usage_materialize_pending() == 6
    got = {
        (row.customer_id, row.day.isoformat()): row.value_sum
        for row in UsageDaily.objects.filter(metric=metric)
    }
    expected = {}
    for who, day, n in raw:
        expected[(who.pk, day)] = expected.get((who.pk, day), 0) + n
    assert got == expected


def test_reads_bring_only_their_own_range_up_to_date(organization, customer, make_metric):
    metric = make_metric(code="calls")
    ingest(
        organization,
        [
            event(1, customer, "2026-03-01", code="calls"),
            event(2, customer, "2026-05-01", code="calls"),
        ],
    )
    services.usage_refresh(metric, date("2026-03-01"), date("2026-03-31"))
    selectors.usage_series(metric, organization, "day", date("2026-03-01"), date("2026-03-31"))
    assert list(UsageDirtyDay.objects.values_list("day", flat=True)) == [date("2026-05-01")]
