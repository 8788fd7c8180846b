"""The one-pass labelled allocation over Parquet gives every figure the row-store engine gives
(``segments.allocation.compute_metrics`` over the same rows in ``costs.CostRow``), for nested
prioritized trees: money to the cent, exact distinct resources at every level and granularity,
the same metric rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from costs.services import focus_import, integration_create
from segments import services
from segments.allocation import MONEY_FIELDS, compute_metrics, load_tree
from segments.engine import allocation_metrics
from segments.filter_tree import Condition, Group, Not, TagCondition, parse_vql
from segments.services import segment_create

from ..costrows import copy_to_row_store
from ..costs.focus_files import generate
from ..segments.conftest import committed
from ..segments.test_figures_oracle import with_refunds

pytestmark = pytest.mark.django_db
CENT = Decimal("0.005")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("allocation")
    return {
        provider: with_refunds(
            generate(directory, provider, rows=1200, seed=11),
            directory / f"{provider}_refunds.csv",
        )
        for provider in ("aws", "gcp")
    }


@pytest.fixture
def imported(organization, files, columnar_root):
    """Both files in the columnar store, and the same rows in the legacy row store."""
    for provider, path in files.items():
        with committed():
            integration = integration_create(organization, provider, f"{provider} billing")
            focus_import(integration, path)
    copy_to_row_store(organization.pk)
    return organization


@pytest.fixture
def no_refresh():
    with mock.patch.object(services, "tree_refresh_enqueue", lambda *args, **kwargs: None):
        yield


def both_clouds_tree(organization):
    """Three levels, overlapping siblings (first by priority wins), tags, LIKE, NOT, and a
    child without a filter of its own."""

    def make(name, tree, **kwargs):
        return segment_create(organization, name=name, filter_tree=tree, **kwargs)

    top = make("Clouds", parse_vql("costs.provider IN ('aws', 'gcp')"), track_unallocated=True)
    prod = make(
        "Prod",
        Group("and", (TagCondition("Environment", "in", ("prod",)),)),
        parent=top,
        priority=1,
        track_unallocated=True,
    )
    make("Prod compute", Condition("category", "like", ("%Compute%",)), parent=prod, priority=1)
    make(
        "Prod not us-east-1",
        Not(Condition("region", "in", ("us-east-1",))),
        parent=prod,
        priority=2,
    )
    make("Prod usage", Condition("charge_type", "in", ("Usage",)), parent=prod, priority=3)
    owned = make(
        "Owned",
        TagCondition("Owner", "exists"),
        parent=top,
        priority=2,
        track_unallocated=True,
    )
    make(
        "Owned by data or web",
        TagCondition("Owner", "in", ("team-data", "team-web")),
        parent=owned,
        priority=1,
    )
    make("Owned, any", None, parent=owned, priority=2)
    gcp = make("GCP", Condition("provider", "in", ("gcp",)), parent=top, priority=3)
    make("GCP untagged", TagCondition(None, "not_exists"), parent=gcp, priority=1)
    make(
        "GCP not like a",
        Condition("service", "not_like", ("%a%",)),
        parent=gcp,
        priority=2,
    )
    return top


def aws_only_tree(organization):
    top = segment_create(
        organization,
        name="AWS",
        provider="aws",
        filter_tree=parse_vql("costs.provider = 'aws'"),
        track_unallocated=True,
    )
    for index, env in enumerate(("prod", "staging", "dev")):
        child = segment_create(
            organization,
            name=f"AWS {env}",
            parent=top,
            priority=index,
            filter_tree=parse_vql(
                f"costs.provider = 'aws' AND tags.name = 'Environment' AND tags.value = '{env}'"
            ),
            track_unallocated=True,
        )
        segment_create(
            organization,
            name=f"AWS {env} EC2",
            parent=child,
            filter_tree=parse_vql("costs.provider = 'aws' AND costs.service = 'AmazonEC2'"),
        )
    return top


def keyed(metrics) -> dict:
    return {
        (str(m.segment_id), m.line, m.granularity, m.period_start, m.charge_kind): m
        for m in metrics
    }


def assert_same_figures(columnar, database) -> None:
    ours, theirs = keyed(columnar), keyed(database)
    assert len(ours) == len(columnar) and len(theirs) == len(database)
    assert set(ours) == set(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        assert got.resource_count == expected.resource_count, key
        for name in MONEY_FIELDS:
            assert abs(getattr(got, name) - getattr(expected, name)) < CENT, (key, name)


@pytest.mark.parametrize("build", [both_clouds_tree, aws_only_tree])
def test_one_pass_gives_the_database_engines_figures(imported, no_refresh, build):
    top = build(imported)
    root = load_tree(top)
    database = compute_metrics(root)
    assert len(database) > 100
    assert {m.line for m in database} == {"total", "unallocated"}
    assert any(m.resource_count for m in database)
    assert_same_figures(allocation_metrics(root), database)


def test_one_pass_over_some_months(imported, no_refresh):
    root = load_tree(both_clouds_tree(imported))
    months = [date(2026, 9, 1)]
    database = compute_metrics(root, months)
    assert {m.period_start.replace(day=1) for m in database} == set(months)
    assert_same_figures(allocation_metrics(root, months), database)


def test_a_tree_of_an_organization_without_files_has_no_figures(organization, no_refresh):
    root = load_tree(aws_only_tree(organization))
    assert allocation_metrics(root) == []
