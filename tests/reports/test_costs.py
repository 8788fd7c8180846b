"""/v2/costs against an independent DuckDB computation over the same FOCUS files, and against
the segments engine on the same rows.

The oracle is written from Vantage's report settings (SPEC §5): usage and purchases always
count; credits, refunds (ChargeClass Correction), discounts (Adjustment) and tax as the settings
say; ``amortize`` reads EffectiveCost, otherwise BilledCost. Amounts must agree exactly: both
sides sum the same decimals.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..segments.conftest import committed
from ..segments.test_figures_oracle import KIND, money, relation

EVERY_KIND = ["usage", "purchase", "credit", "refund", "discount", "tax"]
DEFAULT_KINDS = ["usage", "purchase", "discount", "tax"]
PERIOD = "start_date=2026-08-01&end_date=2026-09-30"


def oracle(paths, *, group: list[str], period: str, kinds, column="EffectiveCost", where="true"):
    """``{(period, *group values): amount}`` by plain SQL over the FOCUS files."""
    periods = {
        "month": "substr(ChargePeriodStart, 1, 7) || '-01'",
        "day": "substr(ChargePeriodStart, 1, 10)",
        "quarter": "strftime(date_trunc('quarter', CAST(substr(ChargePeriodStart, 1, 10) AS DATE)),"
        " '%Y-%m-%d')",
        "week": "strftime(date_trunc('week', CAST(substr(ChargePeriodStart, 1, 10) AS DATE)),"
        " '%Y-%m-%d')",
        "all": "'all'",
    }
    columns = ", ".join(["period", *group])
    query = f"""
        WITH rows AS (
            SELECT *, {KIND} AS kind, {periods[period]} AS period FROM ({relation(paths)})
        )
        SELECT {columns}, sum({money(column)}) FROM rows
        WHERE kind IN ({", ".join(repr(kind) for kind in kinds)}) AND ({where})
          AND substr(ChargePeriodStart, 1, 10) BETWEEN '2026-08-01' AND '2026-09-30'
        GROUP BY ALL
    """
    return {
        tuple(value or None for value in key): amount
        for *key, amount in duckdb.sql(query).fetchall()
    }


def shown(client, url: str, group: list[str]) -> tuple[dict, dict]:
    body = client.get(url).json()
    assert "costs" in body, body
    lines = {}
    for item in body["costs"]:
        key = (item["accrued_at"], *(item[name] for name in group))
        assert key not in lines
        lines[key] = Decimal(item["amount"])
    return lines, body


def test_costs_by_provider_and_service_per_month_equal_plain_sql(token_client, imported):
    lines, body = shown(
        token_client,
        "/v2/costs?filter=costs.provider IN ('aws', 'gcp')&groupings=provider,service"
        f"&date_bin=month&{PERIOD}&limit=5000",
        ["provider", "service"],
    )
    expected = oracle(
        imported, group=["provider", "ServiceName"], period="month", kinds=DEFAULT_KINDS
    )
    assert lines == expected
    assert Decimal(body["total_cost"]["amount"]) == sum(expected.values())
    assert body["total_cost"]["currency"] == "USD"
    assert body["links"]["next"] is None and body["links"]["self"].startswith("http://testserver/")


@pytest.mark.parametrize("date_bin", ["day", "week", "quarter"])
def test_date_bins_equal_plain_sql(token_client, imported, date_bin):
    lines, _ = shown(
        token_client,
        f"/v2/costs?filter=costs.provider = 'aws'&groupings=provider&date_bin={date_bin}"
        f"&{PERIOD}&limit=5000",
        ["provider"],
    )
    expected = oracle(
        imported,
        group=["provider"],
        period=date_bin,
        kinds=DEFAULT_KINDS,
        where="provider = 'aws'",
    )
    assert lines == expected


def test_settings_flags_choose_the_charges_and_the_cost_column(token_client, imported):
    flags = (
        "settings[include_credits]=true&settings[include_refunds]=true"
        "&settings[include_tax]=false&settings[amortize]=false"
    )
    lines, body = shown(
        token_client,
        f"/v2/costs?filter=costs.provider = 'gcp'&groupings=account_id&date_bin=month"
        f"&{PERIOD}&{flags}&limit=5000",
        ["account_id"],
    )
    expected = oracle(
        imported,
        group=["SubAccountId"],
        period="month",
        kinds=["usage", "purchase", "credit", "refund", "discount"],
        column="BilledCost",
        where="provider = 'gcp'",
    )
    assert lines == expected
    everything = oracle(
        imported, group=[], period="all", kinds=EVERY_KIND, where="provider = 'gcp'"
    )
    # Left-out charges are real money: the default settings give another total.
    default = token_client.get(
        f"/v2/costs?filter=costs.provider = 'gcp'&groupings=provider&{PERIOD}"
    ).json()
    assert Decimal(default["total_cost"]["amount"]) != everything[("all",)]


def test_the_explorers_figures_with_every_charge_included(token_client, imported):
    """The explorer sums every charge: with every kind included, the figures agree."""
    flags = "&".join(
        f"settings[{name}]=true"
        for name in ("include_credits", "include_refunds", "include_discounts", "include_tax")
    )
    lines, body = shown(
        token_client,
        f"/v2/costs?filter=costs.provider IN ('aws', 'gcp')&groupings=service&date_bin=month"
        f"&{PERIOD}&{flags}&limit=5000",
        ["service"],
    )
    expected = oracle(imported, group=["ServiceName"], period="month", kinds=EVERY_KIND)
    assert lines == expected
    explorer = token_client.get(
        "/api/v1/costs?provider=aws&provider=gcp&group_by=service&granularity=month"
        "&start=2026-08-01&end=2026-09-30&limit=50"
    ).json()
    explored = {
        (row["period"], None if row["group"] == "(none)" else row["group"]): round(
            Decimal(str(row["effective_cost"])), 2
        )
        for row in explorer["rows"]
    }
    assert explored == {key: round(amount, 2) for key, amount in lines.items()}
    assert round(Decimal(str(explorer["totals"]["effective_cost"])), 2) == round(
        Decimal(body["total_cost"]["amount"]), 2
    )


def test_segment_costs_and_report_costs_agree_to_the_cent(token_client, imported, organization):
    with committed():
        segment = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    segment_lines = token_client.get(
        f"/v2/segments/{segment.token}/costs?granularity=month"
    ).json()["lines"][0]["points"]
    report = token_client.post(
        "/v2/cost_reports",
        {"title": "AWS", "filter": "costs.provider = 'aws'", "groupings": "provider"},
        format="json",
    ).json()
    lines, _ = shown(
        token_client,
        f"/v2/costs?cost_report_token={report['token']}&date_bin=month&{PERIOD}",
        ["provider"],
    )
    by_month = {key[0][:7]: amount for key, amount in lines.items()}
    assert {point["month"] for point in segment_lines} == set(by_month)
    for point in segment_lines:
        assert round(by_month[point["month"]], 2) == round(Decimal(str(point["cost"])), 2)


def test_a_report_applies_its_saved_filters_and_its_folders(token_client, imported):
    service = duckdb.sql(
        f"SELECT ServiceName FROM ({relation(imported)}) WHERE provider = 'aws' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    saved = token_client.post(
        "/v2/saved_filters",
        {"title": "AWS", "filter": "costs.provider = 'aws'"},
        format="json",
    ).json()
    folder_filter = token_client.post(
        "/v2/saved_filters",
        {"title": "One service", "filter": f"costs.service = '{service}'"},
        format="json",
    ).json()
    folder = token_client.post(
        "/v2/folders",
        {"title": "F", "saved_filter_tokens": [folder_filter["token"]]},
        format="json",
    ).json()
    report = token_client.post(
        "/v2/cost_reports",
        {
            "title": "R",
            "saved_filter_tokens": [saved["token"]],
            "folder_token": folder["token"],
            "groupings": "service",
            "start_date": "2026-08-01",
            "end_date": "2026-09-30",
            "date_bin": "month",
        },
        format="json",
    ).json()
    lines, _ = shown(token_client, f"/v2/costs?cost_report_token={report['token']}", ["service"])
    expected = oracle(
        imported,
        group=["ServiceName"],
        period="month",
        kinds=DEFAULT_KINDS,
        where=f"provider = 'aws' AND ServiceName = '{service}'",
    )
    assert lines == expected


def test_previous_period_and_order_and_paging(token_client, imported):
    url = (
        "/v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=day"
        "&start_date=2026-09-01&end_date=2026-09-30&limit=7&order=asc"
    )
    first = token_client.get(url).json()
    assert len(first["costs"]) == 7
    dates = [item["accrued_at"] for item in first["costs"]]
    assert dates == sorted(dates)
    previous = first["previous_period"]
    assert (previous["start_date"], previous["end_date"]) == ("2026-08-01", "2026-08-31")
    august = oracle(
        imported, group=[], period="month", kinds=DEFAULT_KINDS, where="provider = 'aws'"
    )
    assert Decimal(previous["total_cost"]["amount"]) == august[("2026-08-01",)]
    # Walking every page adds up to the total.
    total, page = Decimal(0), first
    while True:
        total += sum(Decimal(item["amount"]) for item in page["costs"])
        if page["links"]["next"] is None:
            break
        assert page["links"]["next"].startswith("http://testserver/v2/costs?")
        page = token_client.get(page["links"]["next"]).json()
    assert total == Decimal(first["total_cost"]["amount"])
    off = token_client.get(url + "&settings[show_previous_period]=false").json()
    assert "previous_period" not in off


def test_usage_and_count_aggregates(token_client, imported):
    usage = token_client.get(
        f"/v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=month&{PERIOD}"
        "&settings[aggregate_by]=usage&limit=5000"
    ).json()
    assert usage["total_usage"]
    units = {item["usage"]["unit"] for item in usage["costs"]}
    assert units == {entry["unit"] for entry in usage["total_usage"]}
    counted = token_client.get(
        f"/v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=month&{PERIOD}"
        "&settings[aggregate_by]=count&limit=5000"
    ).json()
    per_month = {}
    for item in counted["costs"]:
        if Decimal(item["amount"]):
            per_month[item["accrued_at"]] = per_month.get(item["accrued_at"], 0) + 1
    assert {c["accrued_at"]: c["count"] for c in counted["counts"]} == per_month
    assert counted["total_count"] == sum(per_month.values())


def test_tag_and_tagged_groupings(token_client, organization, aws):
    from ..segments.conftest import row

    row(aws, cost=10, tags={"env": "prod"})
    row(aws, cost=5, tags={"env": "dev", "team": "a"})
    row(aws, cost=2, tags={})
    body = token_client.get(
        "/v2/costs?filter=costs.provider = 'aws'&groupings=tag:env,tagged"
        "&start_date=2026-10-01&end_date=2026-10-31&date_bin=month"
    ).json()
    got = {(item["tag"], item["tagged"]): item["amount"] for item in body["costs"]}
    assert got == {("prod", True): "10.0", ("dev", True): "5.0", (None, False): "2.0"}
    assert {tuple(item["tags"]) for item in body["costs"]} == {("env:prod",), ("env:dev",), ()}


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ("", 400, "cost_report_token:"),
        ("filter=costs.provider = ", 400, ""),
        ("filter=costs.provider = 'aws'&date_bin=hour", 400, "date_bin:"),
        ("filter=costs.provider = 'aws'&date_bin=year", 400, "date_bin:"),
        ("filter=costs.provider = 'aws'&groupings=colour", 400, "groupings:"),
        ("filter=costs.provider = 'aws'&order=sideways", 400, "order:"),
        ("filter=costs.provider = 'aws'&limit=5001", 400, "limit:"),
        ("filter=costs.provider = 'aws'&start_date=2026-01-01", 400, "end_date:"),
        ("filter=costs.provider = 'aws'&settings[amortize]=maybe", 400, "settings[amortize]:"),
        ("cost_report_token=rprt_0000000000000000", 404, "cost_report_token:"),
    ],
)
def test_costs_errors(token_client, query, status, fragment):
    response = token_client.get(f"/v2/costs?{query}")
    assert response.status_code == status, response.json()
    assert fragment in " ".join(response.json()["errors"])


def test_another_organizations_report_is_404(token_client, other_token_client):
    theirs = other_token_client.post("/v2/cost_reports", {"title": "T"}, format="json").json()
    response = token_client.get(f"/v2/costs?cost_report_token={theirs['token']}")
    assert response.status_code == 404


def test_limit_up_to_5000_is_accepted(token_client, db):
    response = token_client.get("/v2/costs?filter=costs.provider = 'aws'&limit=5000")
    assert response.status_code == 200
    assert response.json()["costs"] == []
    assert response.json()["total_cost"] == {"amount": "0.0", "currency": "USD"}


@pytest.fixture
def aws(organization):
    from ..factories import IntegrationFactory

    return IntegrationFactory(organization=organization, provider="aws", name="AWS payer")


def test_a_segments_report_token_gives_its_lines(token_client, imported, organization):
    with committed():
        parent = segment_create(
            organization,
            name="AWS",
            filter_tree=parse_vql("costs.provider = 'aws'"),
            track_unallocated=True,
        )
    with committed():
        segment_create(
            organization,
            name="Lambda",
            parent=parent,
            filter_tree=parse_vql("costs.provider = 'aws' AND costs.service = 'AWSLambda'"),
        )
    parent.refresh_from_db()
    assert parent.report_token
    body = token_client.get(
        f"/v2/costs?cost_report_token={parent.report_token}&date_bin=month&{PERIOD}"
    ).json()
    lines = {
        (item["accrued_at"], item["segment"]): Decimal(item["amount"]) for item in body["costs"]
    }
    assert {segment for _, segment in lines} == {"Lambda", "AWS (unallocated)"}
    lambda_only = oracle(
        imported,
        group=[],
        period="month",
        kinds=DEFAULT_KINDS,
        where="provider = 'aws' AND ServiceName = 'AWSLambda'",
    )
    for (month,), amount in lambda_only.items():
        assert round(lines[(month, "Lambda")], 2) == round(amount, 2)
    every_aws = oracle(
        imported, group=[], period="all", kinds=DEFAULT_KINDS, where="provider = 'aws'"
    )
    assert round(Decimal(body["total_cost"]["amount"]), 2) == round(every_aws[("all",)], 2)


def test_tag_account_and_region_groupings_equal_plain_sql(token_client, imported):
    """Grouped by a tag of the FOCUS files (their Tags JSON), the account and the region."""
    lines, _ = shown(
        token_client,
        "/v2/costs?filter=costs.provider IN ('aws', 'gcp')&groupings=tag:Environment,account_id,"
        f"region&date_bin=month&{PERIOD}&limit=5000",
        ["tag", "account_id", "region"],
    )
    expected = oracle(
        imported,
        group=["Tags->>'$.Environment'", "SubAccountId", "RegionId"],
        period="month",
        kinds=DEFAULT_KINDS,
    )
    assert len({key[1] for key in expected}) >= 3  # several environments, untagged included
    assert lines == expected
