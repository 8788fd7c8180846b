"""Virtual tag figures against an independent computation over the same FOCUS files.

FOCUS exports of AWS, Azure and GCP are imported; two virtual tags use every kind of value
(collapsed keys per provider, overridable or not, fixed names, percentages with date ranges, a
business metric's label shares, other costs' shares by tag). The expected cost of every tag value
is computed here in plain Python over the rows DuckDB reads from the CSV files, from the rules
in docs/virtual-tags.md (not from the engine), and compared to the cent — no, to the store's
last digit — with what ``/v2/costs``, the cost explorer's API and a segment show.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext

import duckdb
import pytest
from rest_framework.test import APIClient

from business.models import BusinessMetric, BusinessMetricValue
from costs.services import focus_import, integration_create
from segments.filter_tree import parse_vql
from segments.models import Granularity, Line, SegmentMetric
from segments.services import segment_create, segment_tree_refresh
from tests.factories import OrganizationFactory, api_token
from virtual_tags import services

from ..costs.focus_files import generate
from ..segments.conftest import committed

MONTHS = [date(2026, 8, 1), date(2026, 9, 1)]
PROVIDERS = ("aws", "azure", "gcp")
TENTH = Decimal("1e-10")
SHARE = Decimal("1e-12")
PERIOD = "start_date=2026-08-01&end_date=2026-09-30"
ALL_CHARGES = (
    "settings[include_credits]=true&settings[include_refunds]=true"
    "&settings[include_discounts]=true&settings[include_tax]=true&settings[amortize]=false"
)


@pytest.fixture(scope="module")
def focus_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("virtual_tags")
    return {
        provider: generate(directory, provider, rows=400, seed=23, months=MONTHS)
        for provider in PROVIDERS
    }


def focus_rows(paths) -> list[dict]:
    """Provider, service, day, billed cost and tags of every row, read by DuckDB."""
    parts = [
        f"SELECT '{provider}' AS provider, ServiceName AS service, "
        "CAST(CAST(ChargePeriodStart AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS day, "
        "CAST(coalesce(BilledCost, '0') AS DECIMAL(38, 10)) AS cost, Tags AS tags "
        f"FROM read_csv('{path}', all_varchar=true, header=true)"
        for provider, path in paths.items()
    ]
    rows = duckdb.sql(" UNION ALL ".join(parts)).fetchall()
    return [
        {
            "provider": provider,
            "service": service,
            "day": day,
            "cost": Decimal(cost),
            "tags": {k: str(v) for k, v in json.loads(tags or "{}").items()},
        }
        for provider, service, day, cost, tags in rows
    ]


def split(cost: Decimal, shares: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """The documented rule: the shares cut [0, 1] into pieces (bounds to 12 places, the last
    ending at 1); a line is trunc(cost × upper) - trunc(cost × lower), to 10 places."""

    def trunc(amount: Decimal) -> Decimal:
        return amount.quantize(TENTH, rounding=ROUND_DOWN)

    with localcontext() as context:
        context.prec = 60
        lines, lower = [], Decimal(0)
        for index, (name, share) in enumerate(shares):
            upper = Decimal(1) if index == len(shares) - 1 else (lower + share).quantize(SHARE)
            lines.append((name, trunc(cost * upper) - trunc(cost * lower)))
            lower = upper
    return lines


def normalized(amounts: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    positive = {label: amount for label, amount in amounts.items() if amount > 0 and label}
    total = sum(positive.values())
    with localcontext() as context:
        context.prec = 60
        return [
            (label, (amount / total).quantize(SHARE)) for label, amount in sorted(positive.items())
        ]


BUSINESS_VALUES = {
    # day: {label: amount}; "initech" is left out by label_values.
    date(2026, 9, 2): {"acme": Decimal(3), "globex": Decimal(1), "initech": Decimal(50)},
    date(2026, 9, 9): {"acme": Decimal(1), "globex": Decimal(2)},
    date(2026, 9, 20): {"acme": Decimal(7), "globex": Decimal(0), "initech": Decimal(3)},
}


def expected_figures(rows: list[dict]) -> dict[str, dict[str, Decimal]]:
    """{key: {value: cost}} by the rules, over plain Python rows."""
    # Cost Center: not overridable, GCP's "cost-center" collapsed into it, untagged GCP rows named.
    for row in rows:
        tags = row["tags"]
        if "CostCenter" in tags:
            shares = []
        elif row["provider"] == "gcp" and tags.get("cost-center"):
            shares = [(tags["cost-center"], Decimal(1))]
        elif row["provider"] == "gcp":
            shares = [("gcp-untagged", Decimal(1))]
        else:
            shares = []
        row["lines"] = [
            (dict(tags, **({"CostCenter": name} if name else {})), part)
            for name, part in (split(row["cost"], shares) if shares else [("", row["cost"])])
        ]
    # Owner: overridable; values by precedence.
    environment_share: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        if row["provider"] == "gcp" and "environment" in row["tags"]:
            environment_share[row["day"].replace(day=1)][row["tags"]["environment"]] += row["cost"]
    lines = []
    for row in rows:
        for tags, cost in row["lines"]:
            shares = None
            if (
                row["provider"] == "aws"
                and row["service"] == "AmazonEC2"
                and date(2026, 9, 1) <= row["day"] <= date(2026, 9, 15)
            ):
                shares = [
                    ("team-platform", Decimal("0.5")),
                    ("team-data", Decimal("0.25")),
                    ("", Decimal("0.25")),
                ]
            elif row["provider"] == "azure" and row["day"] in BUSINESS_VALUES:
                amounts = {
                    k: v for k, v in BUSINESS_VALUES[row["day"]].items() if k in ("acme", "globex")
                }
                shares = normalized(amounts)
            elif row["provider"] == "gcp" and row["service"] == "BigQuery":
                shares = normalized(environment_share[row["day"].replace(day=1)])
            if shares is None:
                lines.append((tags, cost))
                continue
            for name, part in split(cost, shares):
                lines.append((dict(tags, Owner=name) if name else tags, part))
    figures: dict[str, dict[str, Decimal]] = {
        "CostCenter": defaultdict(Decimal),
        "Owner": defaultdict(Decimal),
    }
    for tags, cost in lines:
        for key in figures:
            figures[key][tags.get(key, "")] += cost
    return {key: dict(values) for key, values in figures.items()}


@pytest.fixture
def tagged(organization, focus_files):
    for provider, path in focus_files.items():
        with committed():
            focus_import(integration_create(organization, provider, f"{provider} billing"), path)
    metric = BusinessMetric.objects.create(organization=organization, title="Active users")
    BusinessMetricValue.objects.bulk_create(
        BusinessMetricValue(metric=metric, date=day, label=label, amount=amount)
        for day, amounts in BUSINESS_VALUES.items()
        for label, amount in amounts.items()
    )
    with committed():
        cost_center(organization)
        owner(organization, metric)
    return expected_figures(focus_rows(focus_files))


def cost_center(organization):
    services.config_create(
        organization,
        key="CostCenter",
        overridable=False,
        backfill_until="2026-08-01",
        collapsed_tag_keys=[{"key": "cost-center", "providers": ["gcp"]}],
        values=[{"filter": "costs.provider = 'gcp'", "name": "gcp-untagged"}],
    )


def owner(organization, metric):
    services.config_create(
        organization,
        key="Owner",
        overridable=True,
        backfill_until="2026-08-01",
        values=[
            {
                "filter": "costs.provider = 'aws' AND costs.service = 'AmazonEC2'",
                "percentages": [
                    {"value": "team-platform", "pct": 50},
                    {"value": "team-data", "pct": 25},
                ],
                "date_ranges": [{"start_date": "2026-09-01", "end_date": "2026-09-15"}],
            },
            {
                "filter": "costs.provider = 'azure'",
                "business_metric_token": metric.token,
                "label_values": ["acme", "globex"],
            },
            {
                "filter": "costs.provider = 'gcp' AND costs.service = 'BigQuery'",
                "cost_metric": {
                    "filter": "costs.provider = 'gcp'",
                    "aggregation": {"tag": "environment"},
                },
            },
        ],
    )


@pytest.fixture
def organization():
    return OrganizationFactory()


@pytest.fixture
def token_client(organization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(organization)[1]}")
    return client


def v2_costs(client, key: str) -> dict[str, Decimal]:
    response = client.get(
        f"/v2/costs?filter=costs.provider IN ('aws', 'azure', 'gcp')&groupings=tag:{key}"
        f"&{PERIOD}&{ALL_CHARGES}&date_bin=month&limit=1000"
    )
    assert response.status_code == 200, response.content
    found: dict[str, Decimal] = defaultdict(Decimal)
    for line in response.json()["costs"]:
        found[line["tag"] or ""] += Decimal(line["amount"])
    return dict(found)


@pytest.mark.django_db
def test_every_value_equals_the_independent_figures(token_client, tagged):
    for key, expected in tagged.items():
        assert sum(expected.values()) != 0
        assert len(expected) > 2, key
        shown = v2_costs(token_client, key)
        assert {value: shown.get(value, Decimal(0)) for value in expected} == expected, key


@pytest.mark.django_db
def test_a_virtual_tag_in_vql_filters_like_any_tag(token_client, tagged):
    for value in ("acme", "team-platform"):
        response = token_client.get(
            "/v2/costs",
            {
                "filter": f"tags.name = 'Owner' AND tags.value = '{value}'",
                "start_date": "2026-08-01",
                "end_date": "2026-09-30",
                "settings[include_credits]": "true",
                "settings[include_refunds]": "true",
                "settings[amortize]": "false",
            },
        )
        assert response.status_code == 200, response.content
        assert Decimal(response.json()["total_cost"]["amount"]) == tagged["Owner"][value]


@pytest.mark.django_db
def test_a_segment_on_a_virtual_tag_takes_its_share(organization, tagged):
    with committed():
        segment = segment_create(
            organization,
            name="Acme",
            filter_tree=parse_vql(
                "costs.provider = 'azure' AND tags.name = 'Owner' AND tags.value = 'acme'"
            ),
        )
    segment_tree_refresh(segment.pk)
    billed = SegmentMetric.objects.filter(
        segment=segment, granularity=Granularity.MONTH, line=Line.TOTAL
    ).values_list("billed_cost", flat=True)
    assert sum(billed) == tagged["Owner"]["acme"]
