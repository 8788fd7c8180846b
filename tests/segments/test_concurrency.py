"""Concurrent edits of one tree never fail, and a burst of edits costs one or two refreshes.

Real HTTP requests against a live server (one thread and one database connection per request)
on PostgreSQL; refreshes run either in the request threads (the embedded eager mode) or in a
real Celery worker through Redis. Deadlocks are read from PostgreSQL's own counter
(``pg_stat_database.deadlocks``), refreshes from the tree's ``TreeRefresh.runs``. Skipped on
SQLite (one writer at a time: nothing to race).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from celery._state import _set_task_join_will_block
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from config.celery import app as celery_app
from costs import services as cost_services
from segments import selectors, services
from segments.models import Segment, SegmentMetric, Status, TreeRefresh
from tests.costs.focus_files import generate

SERVICES = ["AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonDynamoDB"]
CONCURRENT_PUTS = 40


@pytest.fixture
def postgresql_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL (SQLite has one writer at a time)")


class _WideServer(ThreadedWSGIServer):
    # Django's default listen backlog (10) resets some of 40 simultaneous connections before
    # Django sees them; a production server (gunicorn: 2048) queues them.
    request_queue_size = 128


class _ServerThread(LiveServerThread):
    server_class = _WideServer


@pytest.fixture
def server(transactional_db):
    """A live server (one thread and one database connection per request)."""
    thread = _ServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
    # Eager tasks run concurrently in server threads race on Celery's process-wide "joining
    # would block" flag (set and restored around each eager run); leave it as it was.
    _set_task_join_will_block(False)


@pytest.fixture
def costs(organization, tmp_path_factory):
    integration = cost_services.integration_create(organization, "aws")
    cost_services.focus_import(
        integration, generate(tmp_path_factory.mktemp("focus"), "aws", rows=3000, seed=77)
    )
    return integration


class Api:
    def __init__(self, base_url: str, secret: str):
        self.base = base_url
        self.session_headers = {"Authorization": f"Bearer {secret}"}

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        # One session per call: each request its own connection, as separate clients would.
        return requests.request(
            method, self.base + path, json=body, headers=self.session_headers, timeout=120
        )


def deadlocks() -> int:
    time.sleep(1.5)  # PostgreSQL flushes its statistics about once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def build_tree(api: Api, children: int) -> tuple[dict, list[dict]]:
    top = api.call(
        "POST", "/v2/segments", {"title": "Platform", "filter": "costs.provider = 'aws'"}
    )
    assert top.status_code == 201, top.text
    made = []
    for n in range(children):
        # Every fourth one is a grandchild: a three-level tree.
        parent = made[n - 1]["token"] if n % 4 == 3 else top.json()["token"]
        service = SERVICES[n % len(SERVICES)]
        response = api.call(
            "POST",
            "/v2/segments",
            {
                "title": f"Team {n}",
                "parent_segment_token": parent,
                "priority": n,
                "filter": f"costs.provider = 'aws' AND costs.service = '{service}'",
            },
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    return top.json(), made


def settled(top_id) -> bool:
    state = TreeRefresh.objects.filter(pk=top_id).first()
    top = Segment.objects.get(pk=top_id)
    return state is not None and not state.pending and top.status == Status.COMPLETED


def wait_settled(top_id, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if settled(top_id):
            return time.monotonic() - started
        time.sleep(0.2)
    state = TreeRefresh.objects.filter(pk=top_id).first()
    pytest.fail(f"tree not refreshed within {timeout:.0f} s: {state}")


def figures(top_id) -> list[tuple]:
    ids = [node.segment.pk for node in selectors.tree_of(top_id)]
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
            "resource_count",
        )
    )


def concurrent_puts(api: Api, top: dict, children: list[dict]) -> list[int]:
    """40 PUTs released together: titles, priorities, filters and report settings, on every
    segment of the tree (the top too)."""
    targets = [top, *children]
    barrier = threading.Barrier(CONCURRENT_PUTS)

    def put(n: int) -> int:
        segment = targets[n % len(targets)]
        if segment is top:
            body = {"description": f"edit {n}", "report_settings": {"include_tax": n % 2 == 0}}
        elif n % 3 == 0:
            body = {"priority": 100 - n}
        elif n % 3 == 1:
            service = SERVICES[n % len(SERVICES)]
            body = {"filter": f"costs.provider = 'aws' AND costs.service = '{service}'"}
        else:
            body = {"title": f"Team renamed {n}"}
        barrier.wait()
        return api.call("PUT", f"/v2/segments/{segment['token']}", body).status_code

    with ThreadPoolExecutor(CONCURRENT_PUTS) as pool:
        return list(pool.map(put, range(CONCURRENT_PUTS)))


def check_final_figures(top_id) -> None:
    """What the coalesced refreshes left equals a refresh of the final tree from scratch."""
    left = figures(top_id)
    services.segment_tree_refresh(top_id)
    assert figures(top_id) == left
    assert len(left) > 0


@pytest.mark.django_db(transaction=True)
def test_forty_concurrent_puts_never_fail_eager(postgresql_only, eager, server, costs, write_token):
    """The embedded mode: each edit's refresh runs in its request thread when it commits,
    concurrently with the other edits."""
    api = Api(server, write_token[1])
    top, children = build_tree(api, 8)
    top_id = Segment.objects.get(token=top["token"]).pk
    before = deadlocks()

    codes = concurrent_puts(api, top, children)

    after = deadlocks()
    print(
        f"\neager: {len(codes)} concurrent PUTs, statuses {sorted(set(codes))}, "
        f"deadlocks {after - before}"
    )
    assert codes == [200] * CONCURRENT_PUTS
    assert after - before == 0
    wait_settled(top_id, 30)
    assert not Segment.objects.filter(status=Status.FAILED).exists()
    check_final_figures(top_id)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_forty_concurrent_puts_never_fail_and_coalesce_in_a_worker(
    postgresql_only, celery_workers, server, costs, write_token, settings
):
    celery_workers("a")
    api = Api(server, write_token[1])
    top, children = build_tree(api, 8)
    top_id = Segment.objects.get(token=top["token"]).pk
    wait_settled(top_id)
    runs = TreeRefresh.objects.get(pk=top_id).runs
    before = deadlocks()

    started = time.monotonic()
    codes = concurrent_puts(api, top, children)
    burst = time.monotonic() - started
    converged = wait_settled(top_id)

    after = deadlocks()
    refreshes = TreeRefresh.objects.get(pk=top_id).runs - runs
    print(
        f"\nworker: {len(codes)} concurrent PUTs in {burst:.1f} s, statuses "
        f"{sorted(set(codes))}, deadlocks {after - before}, refreshes {refreshes}, "
        f"settled {converged:.1f} s after the burst"
    )
    assert codes == [200] * CONCURRENT_PUTS
    assert after - before == 0
    assert 1 <= refreshes <= 2
    check_final_figures(top_id)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_building_a_17_segment_tree_costs_one_or_two_refreshes(
    postgresql_only, celery_workers, server, costs, write_token, settings
):
    celery_workers("a")
    api = Api(server, write_token[1])

    started = time.monotonic()
    top, children = build_tree(api, 16)
    built = time.monotonic() - started
    top_id = Segment.objects.get(token=top["token"]).pk
    converged = wait_settled(top_id)

    state = TreeRefresh.objects.get(pk=top_id)
    print(
        f"\n17-segment tree built by {1 + len(children)} POSTs in {built:.1f} s: "
        f"{state.requested} refresh requests, {state.runs} refreshes, settled "
        f"{converged:.1f} s after the last POST"
    )
    assert state.requested == 17
    assert 1 <= state.runs <= 2
    check_final_figures(top_id)
