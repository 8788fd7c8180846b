"""The engine against independent figures: DuckDB over imported FOCUS files, and a plain-Python
allocator over random rows and random segment trees. Also the command and a real worker."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costs.models import CostRow
from costs.services import focus_import, integration_create
from segments import selectors
from segments.filter_tree import parse_vql
from segments.models import Granularity, Line, Segment, SegmentMetric, Status
from segments.services import segment_create

from ..costs.focus_files import generate, monthly_totals
from ..factories import CostRowFactory
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
            "day": st.integers(min_value=1, max_value=28),
        }
    ),
    min_size=1,
    max_size=25,
)
children_strategy = st.lists(
    st.tuples(conditions, st.integers(0, 3), st.lists(conditions, max_size=2)),
    min_size=1,
    max_size=3,
)


def plain_allocation(rows, top, children):
    """Independent allocator: walk each row down the tree by the documented rules."""
    totals = {"top": Decimal(0), "unallocated": Decimal(0)}
    for index, _ in enumerate(children):
        totals[f"c{index}"] = Decimal(0)
        totals[f"c{index}/unallocated"] = Decimal(0)
    order = sorted(range(len(children)), key=lambda i: (children[i][1], i))
    for row in rows:
        if not _matches(top, row):
            continue
        totals["top"] += row["cost"]
        for index in order:
            condition, _, grandchildren = children[index]
            if _matches(condition, row):
                totals[f"c{index}"] += row["cost"]
                if grandchildren and not any(_matches(g, row) for g in grandchildren):
                    totals[f"c{index}/unallocated"] += row["cost"]
                break
        else:
            totals["unallocated"] += row["cost"]
    return totals


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=rows_strategy, top=conditions, children=children_strategy)
def test_engine_matches_plain_allocation(organization, aws, rows, top, children):
    CostRow.objects.all().delete()
    Segment.objects.all().delete()
    materialized = []
    for spec in rows:
        cost = Decimal(spec["cents"]) / 100
        CostRowFactory(
            integration=aws, service_name=spec["service_name"], region_id=spec["region_id"],
            tags={"env": spec["env"]} if spec["env"] else {}, billed_cost=cost,
            effective_cost=cost, list_cost=cost,
            charge_period_start=datetime.date(2026, 10, spec["day"]),
        )
        materialized.append({**spec, "tags": {"env": spec["env"]} if spec["env"] else {},
                             "cost": cost})
    with TestCase.captureOnCommitCallbacks(execute=True):
        root = segment_create(organization, name="top", filter_tree=parse_vql(_vql(top)))
        made = []
        for index, (condition, priority, grandchildren) in enumerate(children):
            child = segment_create(organization, name=f"c{index}", parent=root,
                                   priority=priority, filter_tree=parse_vql(_vql(condition)))
            for g_index, grandchild in enumerate(grandchildren):
                segment_create(organization, name=f"c{index}g{g_index}", parent=child,
                               filter_tree=parse_vql(_vql(grandchild)))
            made.append(child)
    expected = plain_allocation(materialized, top, children)

    def figure(segment, line=Line.TOTAL):
        value = SegmentMetric.objects.filter(
            segment=segment, line=line, granularity=Granularity.MONTH
        ).aggregate(total=Sum("billed_cost"))["total"]
        return value or Decimal(0)

    assert figure(root) == expected["top"]
    assert figure(root, Line.UNALLOCATED) == expected["unallocated"]
    for index, child in enumerate(made):
        assert figure(child) == expected[f"c{index}"]
        if children[index][2]:
            assert figure(child, Line.UNALLOCATED) == expected[f"c{index}/unallocated"]


def test_refresh_segments_command(organization, aws):
    CostRowFactory(integration=aws)
    with committed():
        segment = segment_create(organization, name="AWS",
                                 filter_tree=parse_vql("costs.provider = 'aws'"))
    SegmentMetric.objects.all().delete()
    out = StringIO()
    call_command("refresh_segments", "--org", str(organization.pk), stdout=out)
    assert "Refreshed 1 segment tree(s)" in out.getvalue()
    assert SegmentMetric.objects.filter(segment=segment).exists()


@pytest.mark.parametrize("args,message", [
    (["--org", "nope"], "not found"),
    (["--org", "00000000-0000-0000-0000-000000000000"], "not found"),
])
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
    created = client.post("/v2/segments", {"title": "AWS", "filter": "costs.provider = 'aws'"},
                          format="json").json()
    segment = Segment.objects.get(token=created["token"])
    deadline = time.monotonic() + 60
    while segment.status != Status.COMPLETED and time.monotonic() < deadline:
        time.sleep(0.5)
        segment.refresh_from_db()
    assert segment.status == Status.COMPLETED
    assert client.get(f"/v2/segments/{segment.token}").json()["report_token"].startswith("rprt_")
