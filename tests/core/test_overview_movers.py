"""The overview's biggest movers, as the page shows them: by service from the cost rows and by
segment from the segments' daily figures, month to date against the same days of last month,
money with its currency. Expected figures are worked out here from the rows the test writes."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from segments.models import ChargeKind, Granularity, Line, Segment, SegmentMetric, Status
from tests.costrows import stored_count
from tests.factories import CostRowFactory, IntegrationFactory

# A segment's daily figure is split by charge kind; the movers add every kind.
SHARES = ((ChargeKind.USAGE, Decimal("0.75")), (ChargeKind.TAX, Decimal("0.25")))
# service -> (this month, same days last month)
SERVICES = {
    "AmazonEC2": ("500", "200"),
    "AmazonS3": ("10", "90"),
    "AWSLambda": ("40", "0"),
    "AmazonRDS": ("75", "75"),
    "AmazonSNS": ("0", "12.5"),
}


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def windows():
    today = timezone.now().date()
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    return today, this_month, last_month


def money(amount: Decimal) -> str:
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount).quantize(Decimal('0.01')):,}"


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_service_movers(signed_in, organization):
    _, this_month, last_month = windows()
    aws = IntegrationFactory(organization=organization, provider="aws")
    for service, amounts in SERVICES.items():
        for day, amount in zip((this_month, last_month), amounts, strict=True):
            if amount != "0":
                CostRowFactory(
                    integration=aws,
                    service_name=service,
                    charge_period_start=day,
                    effective_cost=Decimal(amount),
                    billing_currency="USD",
                )
    # Outside both windows: never counted.
    CostRowFactory(
        integration=aws,
        service_name="AmazonS3",
        charge_period_start=last_month - datetime.timedelta(days=1),
        effective_cost=Decimal("999"),
        billing_currency="USD",
    )
    assert stored_count() == 9
    html = signed_in.get("/").content.decode()
    changes = {name: Decimal(now) - Decimal(before) for name, (now, before) in SERVICES.items()}
    up = sorted((n for n, c in changes.items() if c > 0), key=lambda n: -changes[n])
    down = sorted((n for n, c in changes.items() if c < 0), key=lambda n: changes[n])
    rising = table(html, "movers-service-up-USD")
    falling = table(html, "movers-service-down-USD")
    assert [row[0] for row in rising] == up == ["AmazonEC2", "AWSLambda"]
    assert [row[0] for row in falling] == down == ["AmazonS3", "AmazonSNS"]
    ec2 = rising[0]
    assert ec2[1:] == ["$500.00", "$200.00", "$300.00", "+150.0%"]
    assert rising[1][4] == "new"
    assert falling[0][1:] == ["$10.00", "$90.00", money(Decimal("-80")), "−88.9%"]
    assert "Rising most (USD)" in html and "Falling most (USD)" in html


def test_segment_movers_top_five_each_way(signed_in, organization):
    today, this_month, last_month = windows()
    aws = IntegrationFactory(organization=organization, provider="aws")
    CostRowFactory(integration=aws, billing_currency="USD")  # AWS costs are in USD
    figures = {}
    for index in range(7):
        segment = Segment.objects.create(
            organization=organization,
            workspace=organization.default_workspace,
            name=f"Team {index}",
            provider="aws",
            status=Status.COMPLETED,
        )
        now, before = Decimal(100 + index * 10), Decimal(100 + (6 - index) * 10)
        figures[segment.name] = (now, before)
        for day, amount in ((this_month, now), (last_month, before)):
            for kind, share in (
                (ChargeKind.USAGE, Decimal("0.75")),
                (ChargeKind.TAX, Decimal("0.25")),
            ):
                SegmentMetric.objects.create(
                    segment=segment,
                    line=Line.TOTAL,
                    granularity=Granularity.DAY,
                    period_start=day,
                    charge_kind=kind,
                    effective_cost=amount * share,
                )
    system = Segment.objects.create(
        organization=organization,
        workspace=organization.default_workspace,
        name="provider-resources",
        provider="aws",
        is_system_generated=True,
    )
    SegmentMetric.objects.create(
        segment=system,
        line=Line.TOTAL,
        granularity=Granularity.DAY,
        period_start=this_month,
        charge_kind=ChargeKind.USAGE,
        effective_cost=Decimal("99999"),
    )
    html = signed_in.get("/").content.decode()
    assert "provider-resources" not in html  # a provider's whole bill is not a mover
    changes = {name: now - before for name, (now, before) in figures.items()}
    up = sorted((n for n in changes if changes[n] > 0), key=lambda n: -changes[n])[:5]
    down = sorted((n for n in changes if changes[n] < 0), key=lambda n: changes[n])[:5]
    rising = table(html, "movers-segment-up-USD")
    falling = table(html, "movers-segment-down-USD")
    assert [row[0] for row in rising] == up
    assert [row[0] for row in falling] == down
    name = up[0]
    now, before = figures[name]
    assert rising[0][1:4] == [money(now), money(before), money(now - before)]
