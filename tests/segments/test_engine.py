"""The engine against independent figures: DuckDB over imported FOCUS files, and a plain-Python
allocator over random rows and random segment trees. Also the command and a real worker."""

import datetime
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costs.columnar.models import ColumnarPartition
from costs.services import focus_import, integration_create
from segments import selectors
from segments.filter_tree import parse_vql
from segments.models import Granularity, Line, Segment, SegmentMetric, Status
from segments.services import segment_create

from ..costs.focus_files import generate, monthly_totals
from ..factories import CostRowFactory, cost_rows
from .conftest import committed


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_provider_resources_matches_duckdb_sums_of_the_imported_file(
    organization, tmp_path, provider
):
    path = generate(tmp_path, provider, rows=600)
    with committed():
        integration = integration_create(organization, provider, "billing")
        focus_import(integration, path)
    system = Segment.objects.get(organization=organization, is_system_generated=True)
    assert system.status == Status.COMPLETED
    months = selectors.monthly_metrics([system.pk])[system.pk]
    expected = monthly_totals(path)
    assert [m["month"] for m in months] == [month.strftime("%Y-%m") for month in expected]
    for item, (_, sums) in zip(months, sorted(expected.items()), strict=True):
        for name in ("billed_cost", "effective_cost", "list_cost"):
            assert item[name] == pytest.approx(float(round(sums[name], 6)), abs=1e-5)


SERVICES = ["EC2", "S3", "RDS"]
REGIONS = ["us", "eu"]
ENVS = ["prod", "dev", None]


def _matches(condition, row) -> bool:
    if condition is None:  # a segment without a filter takes every row it sees
        return True
    kind, value = condition
    if kind == "service":
        return row["service_name"] == value
    if kind == "region":
        return row["region_id"] == value
    return row["tags"].get("env") == value


def _vql(condition) -> str:
    kind, value = condition
    if kind == "service":
        return f"costs.provider = 'aws' AND costs.service = '{value}'"
    if kind == "region":
        return f"costs.provider = 'aws' AND costs.region = '{value}'"
    return f"costs.provider = 'aws' AND tags.name = 'env' AND tags.value = '{value}'"


def _tree(condition):
    return parse_vql(_vql(condition)) if condition is not None else None


conditions = st.one_of(
    st.tuples(st.just("service"), st.sampled_from(SERVICES)),
    st.tuples(st.just("region"), st.sampled_from(REGIONS)),
    st.tuples(st.just("env"), st.sampled_from(["prod", "dev"])),
)
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "service_name": st.sampled_from(SERVICES),
            "region_id": st.sampled_from(REGIONS),
            "env": st.sampled_from(ENVS),
            "cents": st.integers(min_value=-500, max_value=5000),
            "resource": st.sampled_from(["r1", "r2", "r3", ""]),
            "day": st.integers(min_value=1, max_value=28),
        }
    ),
    min_size=1,
    max_size=25,
)
maybe_conditions = st.one_of(st.none(), conditions)
children_strategy = st.lists(
    st.tuples(maybe_conditions, st.integers(0, 3), st.lists(maybe_conditions, max_size=2)),
    min_size=1,
    max_size=3,
)


def plain_allocation(rows, top, children):
    """Independent allocator: walk each row down the tree by the documented rules. Returns
    ``{line: (cost, distinct resources of usage rows)}``; lines ``top``, ``unallocated``,
    ``c<i>``, ``c<i>/unallocated`` and ``c<i>g<j>``."""
    cost: dict = defaultdict(Decimal)
    resources: dict = defaultdict(set)

    def take(line, row):
        cost[line] += row["cost"]
        if row["resource"]:
            resources[line].add(row["resource"])

    order = sorted(range(len(children)), key=lambda i: (children[i][1], i))
    for row in rows:
        if not _matches(top, row):
            continue
        take("top", row)
        for index in order:
            condition, _, grandchildren = children[index]
            if _matches(condition, row):
                take(f"c{index}", row)
                # Grandchildren share the default priority: the older one wins.
                matched = [g for g, spec in enumerate(grandchildren) if _matches(spec, row)]
                if matched:
                    take(f"c{index}g{matched[0]}", row)
                elif grandchildren:
                    take(f"c{index}/unallocated", row)
                break
        else:
            take("unallocated", row)
    return {line: (cost[line], len(resources[line])) for line in {*cost, *resources}}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=rows_strategy, top=conditions, children=children_strategy)
def test_engine_matches_plain_allocation(organization, aws, rows, top, children):
    ColumnarPartition.objects.all().delete()
    Segment.objects.all().delete()
    materialized, specs = [], []
    for spec in rows:
        cost = Decimal(spec["cents"]) / 100
        specs.append(
            dict(
                service_name=spec["service_name"],
                region_id=spec["region_id"],
                tags={"env": spec["env"]} if spec["env"] else {},
                billed_cost=cost,
                effective_cost=cost,
                list_cost=cost,
                resource_id=spec["resource"],
                charge_period_start=datetime.date(2026, 10, spec["day"]),
            )
        )
        materialized.append(
            {**spec, "tags": {"env": spec["env"]} if spec["env"] else {}, "cost": cost}
        )
    if specs:
        cost_rows(aws, specs)
    made = {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        made["top"] = segment_create(organization, name="top", filter_tree=parse_vql(_vql(top)))
        for index, (condition, priority, grandchildren) in enumerate(children):
            made[f"c{index}"] = segment_create(
                organization,
                name=f"c{index}",
                parent=made["top"],
                priority=priority,
                filter_tree=_tree(condition),
            )
            for g_index, grandchild in enumerate(grandchildren):
                made[f"c{index}g{g_index}"] = segment_create(
                    organization,
                    name=f"c{index}g{g_index}",
                    parent=made[f"c{index}"],
                    filter_tree=_tree(grandchild),
                )
    expected = plain_allocation(materialized, top, children)

    def figure(segment, line=Line.TOTAL):
        sums = SegmentMetric.objects.filter(
            segment=segment, line=line, granularity=Granularity.MONTH
        ).aggregate(cost=Sum("billed_cost"), resources=Sum("resource_count"))
        return (sums["cost"] or Decimal(0), sums["resources"] or 0)

    nothing = (Decimal(0), 0)
    for line, segment in made.items():
        assert figure(segment) == expected.get(line, nothing), line
    assert figure(made["top"], Line.UNALLOCATED) == expected.get("unallocated", nothing)
    for index, (_, _, grandchildren) in enumerate(children):
        if grandchildren:
            assert figure(made[f"c{index}"], Line.UNALLOCATED) == expected.get(
                f"c{index}/unallocated", nothing
            )


def test_refresh_segments_command(organization, aws):
    CostRowFactory(integration=aws)
    with committed():
        segment = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    SegmentMetric.objects.all().delete()
    out = StringIO()
    call_command("refresh_segments", "--org", str(organization.pk), stdout=out)
    assert "Refreshed 1 segment tree(s)" in out.getvalue()
    assert SegmentMetric.objects.filter(segment=segment).exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--org", "nope"], "not found"),
        (["--org", "00000000-0000-0000-0000-000000000000"], "not found"),
    ],
)
def test_refresh_segments_command_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("refresh_segments", *args, stdout=StringIO())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_completes_a_segment_created_through_the_api(celery_worker_process):
    import time

    from rest_framework.test import APIClient

    from ..factories import IntegrationFactory, OrganizationFactory, api_token

    organization = OrganizationFactory(name="Worker org")
    integration = IntegrationFactory(organization=organization, provider="aws")
    CostRowFactory(integration=integration)
    _, secret = api_token(organization)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    created = client.post(
        "/v2/segments", {"title": "AWS", "filter": "costs.provider = 'aws'"}, format="json"
    ).json()
    segment = Segment.objects.get(token=created["token"])
    deadline = time.monotonic() + 60
    while segment.status != Status.COMPLETED and time.monotonic() < deadline:
        time.sleep(0.5)
        segment.refresh_from_db()
    assert segment.status == Status.COMPLETED
    assert client.get(f"/v2/segments/{segment.token}").json()["report_token"].startswith("rprt_")


def test_refresh_segments_command_by_provider_and_bad_provider(organization, aws, gcp):
    CostRowFactory(integration=aws)
    with committed():
        segment_create(organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'"))
        segment_create(organization, name="GCP", filter_tree=parse_vql("costs.provider = 'gcp'"))
    out = StringIO()
    call_command("refresh_segments", "--org", str(organization.pk), "--provider", "gcp", stdout=out)
    assert "Refreshed 'GCP'" in out.getvalue() and "'AWS'" not in out.getvalue()
    assert out.getvalue().strip().splitlines()[-1].startswith("Refreshed 1 segment tree(s)")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("refresh_segments", "--org", str(organization.pk), "--provider", "oracle")


def test_refresh_segments_command_fails_when_a_tree_fails(organization, aws, monkeypatch):
    from segments import services

    CostRowFactory(integration=aws)
    with committed():
        segment_create(organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'"))

    def broken(root, months=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "allocation_metrics", broken)
    with pytest.raises(CommandError, match="1 segment"):
        call_command("refresh_segments", "--org", str(organization.pk), stdout=StringIO())
    assert Segment.objects.get(name="AWS").status_reason == "RuntimeError: boom"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_archera_daily_metrics_are_409_until_a_real_worker_completes_the_segment(
    celery_worker_process, settings
):
    """Archera's ``data_not_ready`` path end to end: while the refresh waits its debounce in
    the broker the daily metrics answer 409; the real worker process then computes the tree,
    and the same call answers the figures."""
    import time

    from rest_framework.test import APIClient

    from ..factories import IntegrationFactory, OrganizationFactory, api_token

    # The refresh is queued with this countdown (set by the enqueuing process): a window in
    # which the segment is certainly still ``new``.
    settings.SEGMENTS_REFRESH_DEBOUNCE_SECONDS = 6
    organization = OrganizationFactory(name="Not ready org")
    integration = IntegrationFactory(organization=organization, provider="aws")
    CostRowFactory(
        integration=integration,
        charge_period_start=datetime.date(2026, 10, 4),
        billed_cost=Decimal("12.5"),
    )
    _, secret = api_token(organization)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    base = f"/beta/v1/org/{organization.pk}/segments"
    created = client.post(base, {"name": "AWS", "provider": "aws"}, format="json").json()
    assert created["status"] == "new"
    daily = f"{base}/{created['id']}/metrics/daily?start_date=2026-10-01&end_date=2026-10-31"
    waiting = client.get(daily)
    assert waiting.status_code == 409
    assert waiting.json()["code"] == "data_not_ready"
    assert set(waiting.json()) == {"message", "detail", "code"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if client.get(f"{base}/{created['id']}").json()["status"] == "completed":
            break
        time.sleep(0.5)
    ready = client.get(daily)
    assert ready.status_code == 200
    assert [(day["date"], day["billed_cost"]) for day in ready.json()] == [("2026-10-04", 12.5)]
