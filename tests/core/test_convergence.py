"""Workers die; the system converges.

The first tests drive the recovery sweep (``core.recover_stuck_work``) directly, in eager mode
(SQLite or PostgreSQL). The ``worker`` tests SIGKILL the process group of a real Celery worker
in the middle of an import and in the middle of a segment refresh, start a new worker, and
check that the figures end up exactly those of a run nobody killed, within a stated bound.
They need PostgreSQL and Redis (skipped otherwise), like the other worker tests.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from config.celery import app as celery_app
from console.health import health_report
from console.tasks import recover_stuck_work
from costs import services as cost_services
from costs.models import ImportJob
from segments import services as segment_services
from segments.filter_tree import parse_vql
from segments.models import Segment, SegmentMetric, Status, TreeRefresh
from tests.costrows import stored
from tests.costs.focus_files import generate, monthly_totals

# Worker settings of the kill tests: what a deployment sets in minutes, shortened to seconds.
FAST_RECOVERY = {
    "WORK_STALE_SECONDS": 3,
    "WORK_RECOVERY_INTERVAL_SECONDS": 1,
    "CELERY_UNACKED_RESTORE_INTERVAL": 1,
    "CELERY_UNACKED_RESTORE_THROTTLE": 1,
    "SEGMENTS_REFRESH_DEBOUNCE_SECONDS": 0,
}
# Kill to converged figures, new worker's start-up included (it takes 3-8 s on the 2-core CI box).
CONVERGE_WITHIN_SECONDS = 60


def wait_for(condition, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def long_ago(settings):
    return timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS + 60)


@pytest.fixture
def focus_parts(tmp_path_factory):
    """Five parts of one AWS export (same months, different rows): progress advances 20% per
    part, so a test can kill the worker at 60% exactly."""
    directory = tmp_path_factory.mktemp("parts")
    return [generate(directory, "aws", rows=1500, seed=40 + n) for n in range(5)]


def expected_totals(paths) -> dict:
    totals: dict = {}
    for path in paths:
        for month, sums in monthly_totals(path).items():
            totals[month] = totals.get(month, Decimal(0)) + sums["billed_cost"]
    return totals


def imported_totals(integration) -> dict:
    from django.db.models.functions import TruncMonth

    rows = stored().filter(integration=integration)
    return {
        row["month"]: row["billed"]
        for row in rows.annotate(month=TruncMonth("charge_period_start"))
        .values("month")
        .annotate(billed=Sum("billed_cost"))
    }


def tree_figures(top) -> list[tuple]:
    ids = [top.pk, *Segment.objects.filter(parent=top).values_list("pk", flat=True)]
    return list(
        SegmentMetric.objects.filter(segment_id__in=ids)
        .order_by("segment_id", "line", "granularity", "period_start", "charge_kind")
        .values_list(
            "segment_id",
            "line",
            "granularity",
            "period_start",
            "charge_kind",
            "billed_cost",
            "effective_cost",
            "resource_count",
        )
    )


# --------------------------------------------------------------------------- the sweep, eager


@pytest.mark.django_db
def test_a_job_left_running_by_a_dead_worker_runs_again(
    organization, focus_parts, settings, django_capture_on_commit_callbacks
):
    integration = cost_services.integration_create(organization, "aws")
    job = cost_services.import_job_create(integration, paths=focus_parts[:2])
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        attempts=1,
        started_at=long_ago(settings),
        heartbeat_at=long_ago(settings),
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcome = recover_stuck_work()

    assert outcome["imports"] == {"requeued": [str(job.pk)], "failed": []}
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert stored().filter(integration=integration).count() == 3000


@pytest.mark.django_db
def test_a_job_whose_worker_died_too_often_fails_with_the_reason(organization, settings):
    integration = cost_services.integration_create(organization, "aws")
    job = cost_services.import_job_create(integration, paths=["/data/export.csv"])
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        attempts=settings.IMPORT_JOB_MAX_ATTEMPTS,
        heartbeat_at=long_ago(settings),
    )

    assert cost_services.import_jobs_recover() == {"requeued": [], "failed": [str(job.pk)]}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("export.csv: its worker stopped answering (no progress since ")
    assert job.error.endswith(f"run {settings.IMPORT_JOB_MAX_ATTEMPTS}).")
    # Failed is final for the sweep; the person retries (import_job_retry) when it makes sense.
    assert cost_services.import_jobs_recover() == {"requeued": [], "failed": []}


@pytest.mark.django_db
def test_jobs_with_a_fresh_heartbeat_are_left_to_their_worker(organization, settings):
    integration = cost_services.integration_create(organization, "aws")
    running = cost_services.import_job_create(integration, paths=["/data/a.csv"])
    ImportJob.objects.filter(pk=running.pk).update(
        status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=1)
    )
    cost_services.import_job_create(integration, paths=["/data/b.csv"])  # queued just now

    assert cost_services.import_jobs_recover() == {"requeued": [], "failed": []}
    assert health_report()[0]["checks"]["work"]["imports_stuck"] == 0


@pytest.mark.django_db
def test_a_queued_job_whose_message_was_lost_is_enqueued_again(
    organization, focus_parts, settings, django_capture_on_commit_callbacks
):
    integration = cost_services.integration_create(organization, "aws")
    job = cost_services.import_job_create(integration, paths=focus_parts[:1])
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago(settings))

    with django_capture_on_commit_callbacks(execute=True):
        assert cost_services.import_jobs_recover()["requeued"] == [str(job.pk)]

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.attempts == 1


@pytest.mark.django_db
def test_a_tree_left_new_with_no_refresh_requested_is_refreshed(
    organization, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        top = segment_services.segment_create(
            organization, name="Platform", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    top.refresh_from_db()
    assert top.status == Status.COMPLETED
    # A tree whose refresh request was lost before this bookkeeping existed, say.
    Segment.objects.filter(pk=top.pk).update(status=Status.NEW, updated_at=long_ago(settings))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = segment_services.tree_refreshes_recover()

    assert outcome == {"requeued": [], "requested": [str(top.pk)]}
    top.refresh_from_db()
    assert top.status == Status.COMPLETED
    assert segment_services.tree_refreshes_recover() == {"requeued": [], "requested": []}


@pytest.mark.django_db
def test_a_refresh_request_nobody_ran_is_enqueued_again(
    organization, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        top = segment_services.segment_create(
            organization, name="Platform", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    # The edit committed, its message never reached a worker (broker down, process killed).
    segment_services.segment_update(top, name="Platform (renamed)", priority=5)
    with django_capture_on_commit_callbacks(execute=False):
        segment_services.tree_refresh_enqueue(top)
    TreeRefresh.objects.filter(pk=top.pk).update(requested_at=long_ago(settings))
    state = TreeRefresh.objects.get(pk=top.pk)
    assert state.pending

    with django_capture_on_commit_callbacks(execute=True):
        outcome = segment_services.tree_refreshes_recover()

    assert outcome == {"requeued": [str(top.pk)], "requested": []}
    state.refresh_from_db()
    assert not state.pending
    assert state.done == state.requested


@pytest.mark.django_db
def test_queued_refreshes_of_an_older_generation_exit_without_computing(
    organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        top = segment_services.segment_create(
            organization, name="Platform", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    state = TreeRefresh.objects.get(pk=top.pk)
    runs = state.runs
    with django_capture_on_commit_callbacks(execute=False):  # three edits, nothing run yet
        for _ in range(3):
            segment_services.tree_refresh_enqueue(top)
    newest = TreeRefresh.objects.get(pk=top.pk).requested

    for generation in range(newest - 2, newest):  # superseded: a newer request is queued
        assert segment_services.segment_tree_refresh(top.pk, generation=generation) is None
    assert segment_services.segment_tree_refresh(top.pk, generation=newest) is not None
    assert segment_services.segment_tree_refresh(top.pk, generation=newest) is None  # covered

    state.refresh_from_db()
    assert state.runs == runs + 1
    assert state.done == state.requested == newest


@pytest.mark.django_db
def test_refresh_requests_for_months_widen_until_one_covers_them(
    organization, django_capture_on_commit_callbacks
):
    from datetime import date

    with django_capture_on_commit_callbacks(execute=True):
        top = segment_services.segment_create(
            organization, name="Platform", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    with django_capture_on_commit_callbacks(execute=False):
        segment_services.tree_refresh_enqueue(top, [date(2026, 8, 1)])
        segment_services.tree_refresh_enqueue(top, [date(2026, 9, 1)])
    assert TreeRefresh.objects.get(pk=top.pk).months == ["2026-08-01", "2026-09-01"]
    # A refresh of only August does not cover the request.
    segment_services.segment_tree_refresh(top.pk, [date(2026, 8, 1)])
    assert TreeRefresh.objects.get(pk=top.pk).pending
    with django_capture_on_commit_callbacks(execute=False):
        segment_services.tree_refresh_enqueue(top)  # every month
    assert TreeRefresh.objects.get(pk=top.pk).months is None


# --------------------------------------------------------------------------- real workers, killed


def kill_mid_import(celery_workers, organization, focus_parts, settings, **recovery):
    """Start an import of five parts in worker "a", SIGKILL its process group at 60%, start
    worker "b" with ``recovery`` settings; return (job, integration, seconds to converge)."""
    settings.WORK_STALE_SECONDS = 3
    settings.SEGMENTS_REFRESH_DEBOUNCE_SECONDS = 0
    integration = cost_services.integration_create(organization, "aws")
    job = cost_services.import_job_create(integration, paths=focus_parts)
    first = celery_workers("a", **FAST_RECOVERY, COSTS_IMPORT_PROGRESS_DELAY_SECONDS=1.5)
    cost_services.import_job_enqueue(job)  # autocommit: sent at once

    wait_for(
        lambda: (
            cost_services.import_job_progress(ImportJob.objects.get(pk=job.pk))["percent"] >= 60
        ),
        60,
        "the import to reach 60%",
        step=0.05,
    )
    first.kill_hard()
    killed_at = time.monotonic()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING  # what the dead worker left behind
    assert job.attempts == 1
    # Its heartbeat advanced during the import (written from a side connection: the import's
    # own transaction never committed).
    assert (job.heartbeat_at - job.started_at).total_seconds() >= 1.5
    assert not stored().filter(integration=integration).exists()  # rolled back
    time.sleep(settings.WORK_STALE_SECONDS + 0.5)
    work = health_report()[0]["checks"]["work"]
    assert work["imports_stuck"] == 1, work

    celery_workers("b", **{**FAST_RECOVERY, **recovery})
    wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED,
        CONVERGE_WITHIN_SECONDS,
        "the import to succeed in the new worker",
    )
    seconds = time.monotonic() - killed_at
    job.refresh_from_db()
    return job, integration, seconds


def assert_import_converged(job, integration, focus_parts):
    assert job.error == ""
    assert job.rows_written == 7500
    assert stored().filter(integration=integration).count() == 7500
    assert imported_totals(integration) == expected_totals(focus_parts)
    # The import's refresh of the provider's system segment ran too: it holds every row.
    system = Segment.objects.get(organization=integration.organization, is_system_generated=True)
    wait_for(
        lambda: not TreeRefresh.objects.get(pk=system.pk).pending,
        CONVERGE_WITHIN_SECONDS,
        "the system segment's refresh",
    )
    total = SegmentMetric.objects.filter(
        segment=system, line="total", granularity="month"
    ).aggregate(billed=Sum("billed_cost"))["billed"]
    assert total == sum(expected_totals(focus_parts).values())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_killed_at_60_percent_is_redelivered_to_a_new_worker(
    celery_workers, organization, focus_parts, settings
):
    # No beat: only the broker's visibility timeout (5 s here) brings the message back.
    job, integration, seconds = kill_mid_import(
        celery_workers, organization, focus_parts, settings, CELERY_VISIBILITY_TIMEOUT=5
    )
    print(f"\nimport killed at 60%, redelivered: converged {seconds:.1f} s after the kill")
    assert job.attempts == 2
    assert_import_converged(job, integration, focus_parts)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_killed_at_60_percent_is_requeued_by_the_sweep(
    celery_workers, organization, focus_parts, settings
):
    # The message stays stranded (visibility timeout 5 min, as deployed); the beat sweep sees
    # the job's heartbeat is older than 3 s and queues it again.
    job, integration, seconds = kill_mid_import(
        celery_workers,
        organization,
        focus_parts,
        settings,
        CELERY_VISIBILITY_TIMEOUT=300,
        beat=True,
    )
    print(f"\nimport killed at 60%, re-queued by the sweep: converged {seconds:.1f} s after")
    assert job.attempts == 2
    assert_import_converged(job, integration, focus_parts)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_refresh_killed_mid_way_converges_to_the_figures_of_an_unkilled_run(
    celery_workers, organization, focus_parts, settings
):
    settings.WORK_STALE_SECONDS = 3
    settings.SEGMENTS_REFRESH_DEBOUNCE_SECONDS = 0
    # The figures of a refresh nobody killed: the embedded (eager) mode, in this process.
    celery_app.conf.task_always_eager = True
    integration = cost_services.integration_create(organization, "aws")
    cost_services.focus_import(integration, focus_parts[:2])
    top = segment_services.segment_create(
        organization, name="Platform", filter_tree=parse_vql("costs.provider = 'aws'")
    )
    for name, service in (("Compute", "AmazonEC2"), ("Databases", "AmazonRDS")):
        segment_services.segment_create(
            organization,
            name=name,
            parent=top,
            filter_tree=parse_vql(f"costs.provider = 'aws' AND costs.service = '{service}'"),
        )
    reference = tree_figures(top)
    assert len(reference) > 20
    assert Segment.objects.get(pk=top.pk).status == Status.COMPLETED

    # Now through the broker: the tree is asked for again and worker "a" dies computing it.
    celery_app.conf.task_always_eager = False
    SegmentMetric.objects.filter(segment_id__in=[row[0] for row in reference]).delete()
    # (Started first: a solo worker busy with a task does not answer the readiness ping.)
    first = celery_workers("a", **FAST_RECOVERY, SEGMENTS_REFRESH_DELAY_SECONDS=30)
    segment_services.segment_update(top, priority=7)  # marks the tree new, asks for a refresh

    def refresh_lock_held():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [segment_services.REFRESH_LOCK_NAMESPACE],
            )
            return cursor.fetchone()[0]

    wait_for(refresh_lock_held, 60, "worker a to start the refresh")
    first.kill_hard()
    killed_at = time.monotonic()
    wait_for(lambda: not refresh_lock_held(), 10, "the dead worker's lock to be released")
    assert Segment.objects.get(pk=top.pk).status == Status.NEW
    assert tree_figures(top) == []
    time.sleep(settings.WORK_STALE_SECONDS + 0.5)
    work = health_report()[0]["checks"]["work"]
    assert work["segment_refreshes_stuck"] == 1, work

    celery_workers("b", beat=True, **FAST_RECOVERY, CELERY_VISIBILITY_TIMEOUT=5)
    wait_for(
        lambda: Segment.objects.get(pk=top.pk).status == Status.COMPLETED,
        CONVERGE_WITHIN_SECONDS,
        "the tree to be refreshed by worker b",
    )
    seconds = time.monotonic() - killed_at
    print(f"\nrefresh killed mid-way: converged {seconds:.1f} s after the kill")
    assert tree_figures(top) == reference
    assert not TreeRefresh.objects.get(pk=top.pk).pending
    assert health_report()[0]["checks"]["work"]["segment_refreshes_stuck"] == 0


@pytest.mark.django_db
def test_a_refresh_queued_for_a_top_that_moved_under_another_tree_does_nothing(
    organization, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moved = segment_services.segment_create(
            organization, name="Moved", filter_tree=parse_vql("costs.provider = 'aws'")
        )
        other = segment_services.segment_create(
            organization, name="Other", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    with django_capture_on_commit_callbacks(execute=False):
        segment_services.tree_refresh_enqueue(moved)  # queued while it was a top
    stale = TreeRefresh.objects.get(pk=moved.pk)
    with django_capture_on_commit_callbacks(execute=True):
        segment_services.segment_update(moved, parent=other)
    runs = stale.runs

    assert segment_services.segment_tree_refresh(moved.pk, generation=stale.requested) is None
    TreeRefresh.objects.filter(pk=moved.pk).update(requested_at=long_ago(settings))
    assert segment_services.tree_refreshes_recover() == {"requeued": [], "requested": []}
    assert TreeRefresh.objects.get(pk=moved.pk).runs == runs
    assert Segment.objects.get(pk=other.pk).status == Status.COMPLETED
    assert Segment.objects.get(pk=moved.pk).status == Status.COMPLETED
