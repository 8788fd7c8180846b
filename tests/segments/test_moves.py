"""The money a segment change moves (preview and history), against figures known by hand."""

from datetime import date
from decimal import Decimal

import pytest

from segments import services
from segments.filter_tree import parse_vql
from tests.factories import cost_rows

from .conftest import vql_segment

pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 5)  # in the last full month on 2026-11-30


@pytest.fixture
def tree(organization, aws):
    cost_rows(
        aws,
        [
            {
                "service_name": "AmazonEC2",
                "billed_cost": Decimal("10"),
                "charge_period_start": OCTOBER,
            },
            {
                "service_name": "AmazonS3",
                "billed_cost": Decimal("5"),
                "charge_period_start": OCTOBER,
            },
            {
                "service_name": "AmazonRDS",
                "billed_cost": Decimal("3"),
                "charge_period_start": OCTOBER,
            },
            # Another month: never counted.
            {
                "service_name": "AmazonRDS",
                "billed_cost": Decimal("99"),
                "charge_period_start": date(2026, 9, 5),
            },
        ],
    )
    top = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    compute = vql_segment(
        organization,
        "Compute",
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2'",
        parent=top,
        priority=1,
    )
    vql_segment(
        organization,
        "Storage",
        "costs.provider = 'aws' AND costs.service = 'AmazonS3'",
        parent=top,
        priority=2,
    )
    return top, compute


def test_a_preview_shows_what_moves_and_saves_nothing(tree):
    top, compute = tree
    wider = parse_vql("costs.provider = 'aws' AND costs.service IN ('AmazonEC2', 'AmazonRDS')")
    moved = services.segment_change_preview(compute, filter_tree=wider)
    assert moved == [
        {
            "from": "AWS (unallocated)",
            "to": "Compute",
            "amount": "3.00",
            "currency": "USD",
            "month": "2026-10",
        },
    ]
    compute.refresh_from_db()
    assert "AmazonRDS" not in str(compute.filter_tree)


def test_priority_changes_move_what_both_match_and_history_keeps_every_change(tree, organization):
    top, compute = tree
    everything = vql_segment(
        organization, "Everything", "costs.provider = 'aws'", parent=top, priority=3
    )
    created = everything.history.first()
    # Created last: it took what the others left (RDS, 3.00) from the parent's unallocated cost.
    assert created.money_moved == [
        {
            "from": "AWS (unallocated)",
            "to": "Everything",
            "amount": "3.00",
            "currency": "USD",
            "month": "2026-10",
        },
    ]
    services.segment_update(everything, priority=0)
    everything.refresh_from_db()
    assert sorted((m["from"], m["to"], m["amount"]) for m in everything.money_moved) == [
        ("Compute", "Everything", "10.00"),
        ("Storage", "Everything", "5.00"),
    ]
    records = list(everything.history.order_by("history_date"))
    assert [record.priority for record in records] == [3, 0]
    assert records[-1].money_moved == everything.money_moved


def test_the_history_is_in_the_api(tree, organization):
    from rest_framework.test import APIClient

    from tests.factories import api_token

    top, compute = tree
    services.segment_update(compute, priority=5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(organization)[1]}")
    history = client.get(f"/v2/segments/{compute.token}/history").json()["history"]
    assert [change["change"] for change in history] == ["updated", "created"]
    assert (history[1]["after"]["priority"], history[0]["after"]["priority"]) == (1, 5)
    assert history[0]["before"] == history[1]["after"]
    assert history[0]["after"]["parent_id"] == str(top.pk)
