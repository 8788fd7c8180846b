"""``costs.allocation`` in segment VQL: a segment takes a share of the cost its filter matches,
the rest stays with its parent as unallocated; every line adds up to the rows exactly."""

from decimal import Decimal

import pytest

from segments.models import Granularity, Line, SegmentMetric
from tests.factories import cost_rows

from .conftest import vql_segment

pytestmark = pytest.mark.django_db


def figures(segment, line=Line.TOTAL) -> Decimal:
    return sum(
        SegmentMetric.objects.filter(
            segment=segment, line=line, granularity=Granularity.MONTH
        ).values_list("billed_cost", flat=True),
        Decimal(0),
    )


@pytest.fixture
def tree(organization, aws):
    cost_rows(
        aws,
        [
            {"service_name": "AmazonEC2", "billed_cost": Decimal("10.00")},
            {"service_name": "AmazonEC2", "billed_cost": Decimal("0.0000000001")},
            {"service_name": "AmazonS3", "billed_cost": Decimal("7.00")},
            {"service_name": "AmazonRDS", "billed_cost": Decimal("3.00")},
        ],
    )
    top = vql_segment(organization, "AWS", "costs.provider = 'aws'", track_unallocated=True)
    compute = vql_segment(
        organization,
        "Compute, a third",
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2' AND costs.allocation = 0.3333",
        parent=top,
        priority=1,
    )
    data = vql_segment(
        organization,
        "Data",
        "(costs.provider = 'aws' AND costs.service = 'AmazonS3' AND costs.allocation = 0.5) OR "
        "(costs.provider = 'aws' AND costs.service = 'AmazonRDS')",
        parent=top,
        priority=2,
    )
    top.refresh_from_db()
    return top, compute, data


def test_a_segment_takes_its_share_and_the_rest_is_unallocated(tree):
    top, compute, data = tree
    ec2 = Decimal("10.0000000001")
    compute_share = (Decimal("10.00") * Decimal("0.3333")).quantize(Decimal("1e-10"))
    assert figures(compute) == compute_share  # 0.0000000001 × 0.3333 truncates to 0
    # The first OR clause that matches decides: S3 at one half, RDS whole.
    assert figures(data) == Decimal("3.50") + Decimal("3.00")
    assert figures(top) == ec2 + Decimal("10.00")
    assert figures(top, Line.UNALLOCATED) == (ec2 - compute_share) + Decimal("3.50")
    # Nothing lost, nothing invented.
    assert figures(compute) + figures(data) + figures(top, Line.UNALLOCATED) == figures(top)


def test_the_share_round_trips_through_the_vantage_api(tree, organization):
    from rest_framework.test import APIClient

    from tests.factories import api_token

    _, compute, _ = tree
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(organization)[1]}")
    body = client.get(f"/v2/segments/{compute.token}").json()
    assert body["filter"] == (
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2' AND costs.allocation = 0.3333"
    )
