"""Every figure of a nested, prioritized tree that spans providers, against DuckDB.

FOCUS files of all three providers (commitment purchases, amortized committed usage, credits,
tax, and refunds injected as ``ChargeClass = Correction``) are imported; a tree over
``costs.provider IN ('aws', 'azure', 'gcp')`` with prioritized children and grandchildren is
computed by the engine, and each figure each surface shows is compared with plain SQL over the
same files (DuckDB), written from the definitions in SPEC §5, not from the engine.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command
from django.db.models import Sum

from costs.services import focus_import, integration_create
from segments import selectors
from segments.filter_tree import parse_vql
from segments.models import Granularity, Line, Segment, Status
from segments.services import segment_create

from ..costs.focus_files import generate, rewrite_csv
from .conftest import committed

PROVIDERS = ("aws", "azure", "gcp")
MONTHS = [date(2026, 8, 1), date(2026, 9, 1)]


def with_refunds(source: Path, target: Path) -> Path:
    """Every 23rd usage row becomes a refund of itself: a correction with negated costs."""

    def change(header, rows):
        at = {name: header.index(name) for name in header}
        usage = [row for row in rows if row[at["ChargeCategory"]] == "Usage"]
        for row in usage[::23]:
            row[at["ChargeClass"]] = "Correction"
            for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
                row[at[column]] = str(-Decimal(row[at[column]] or "0"))

    return rewrite_csv(source, target, change)


def relation(paths: dict[str, Path]) -> str:
    parts = [
        f"SELECT '{provider}' AS provider, * FROM read_csv('{path}', all_varchar=true, header=true)"
        for provider, path in paths.items()
    ]
    return " UNION ALL BY NAME ".join(parts)


def most_common(paths, provider: str, column: str) -> str:
    query = (
        f"SELECT {column} FROM ({relation(paths)}) WHERE provider = '{provider}' "
        f"AND {column} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    return duckdb.sql(query).fetchall()[0][0]


def money(column: str) -> str:
    return f"CAST(coalesce({column}, '0') AS DECIMAL(38, 10))"


IS_USAGE = "ChargeCategory = 'Usage' AND coalesce(ChargeClass, '') <> 'Correction'"
KIND = (
    "CASE WHEN coalesce(ChargeClass, '') = 'Correction' THEN 'refund' "
    "WHEN ChargeCategory = 'Credit' THEN 'credit' WHEN ChargeCategory = 'Tax' THEN 'tax' "
    "WHEN ChargeCategory = 'Purchase' THEN 'purchase' "
    "WHEN ChargeCategory = 'Adjustment' THEN 'discount' ELSE 'usage' END"
)


def oracle(paths, label_case: str, labels: list[str], kinds: list[str] | None, period: str):
    """Per period: every figure of the rows labelled with any of ``labels``, by plain SQL."""
    kind_filter = f"AND kind IN ({', '.join(repr(k) for k in kinds)})" if kinds else ""
    period_sql = (
        "substr(ChargePeriodStart, 1, 7)"
        if period == "month"
        else ("substr(ChargePeriodStart, 1, 10)")
    )
    query = f"""
        WITH rows AS (
            SELECT *, {label_case} AS label, {KIND} AS kind, {period_sql} AS period
            FROM ({relation(paths)})
        )
        SELECT period,
            sum({money("BilledCost")}), sum({money("EffectiveCost")}), sum({money("ListCost")}),
            sum(CASE WHEN {IS_USAGE} THEN {money("ListCost")} ELSE 0 END),
            sum(CASE WHEN coalesce(CommitmentDiscountId, '') <> ''
                     THEN {money("EffectiveCost")} ELSE 0 END),
            sum(CASE WHEN {IS_USAGE} THEN {money("ListCost")} - {money("EffectiveCost")}
                     ELSE 0 END),
            sum(CASE WHEN {IS_USAGE} AND PricingCategory = 'Committed'
                     THEN {money("ListCost")} ELSE 0 END),
            sum(CASE WHEN {IS_USAGE} AND PricingCategory IN ('Standard', 'Committed')
                     THEN {money("ListCost")} ELSE 0 END),
            sum(CASE WHEN {IS_USAGE} THEN {money("ConsumedQuantity")} ELSE 0 END),
            count(DISTINCT CASE WHEN {IS_USAGE} AND coalesce(ResourceId, '') <> ''
                                THEN ResourceId END)
        FROM rows WHERE label IN ({", ".join(repr(label) for label in labels)}) {kind_filter}
        GROUP BY period ORDER BY period
    """
    result = {}
    for period_value, *values in duckdb.sql(query).fetchall():
        (
            billed,
            effective,
            list_cost,
            on_demand,
            committed_cost,
            savings,
            committed_list,
            eligible,
            quantity,
            resources,
        ) = values
        result[period_value] = {
            "billed_cost": billed,
            "effective_cost": effective,
            "list_cost": list_cost,
            "on_demand_cost": on_demand,
            "committed_cost": committed_cost,
            "savings": savings,
            "coverage": committed_list / eligible if eligible else Decimal(0),
            "usage_quantity": quantity,
            "resource_count": resources,
        }
    return result


def assert_figures(shown: dict, expected: dict, what: str) -> None:
    for name, value in expected.items():
        if name == "resource_count":
            assert shown[name] == value, f"{what} {name}"
        else:
            assert shown[name] == pytest.approx(float(round(value, 6)), abs=2e-6), (
                f"{what} {name}: shown {shown[name]}, independent {value}"
            )


@pytest.fixture(scope="module")
def cloud_files(tmp_path_factory):
    """FOCUS files of all three providers with refunds injected: ``{provider: path}``."""
    directory = tmp_path_factory.mktemp("clouds")
    return {
        provider: with_refunds(
            generate(directory, provider, rows=700, seed=7, months=MONTHS),
            directory / f"{provider}_refunds.csv",
        )
        for provider in PROVIDERS
    }


@pytest.fixture
def clouds(organization, cloud_files):
    """All three providers imported; returns ``{provider: path}``."""
    paths = dict(cloud_files)
    for provider in PROVIDERS:
        with committed():
            integration = integration_create(organization, provider, f"{provider} billing")
            focus_import(integration, paths[provider])
    return paths


def build_tree(organization, paths):
    """A tree spanning providers, and the same tree as a DuckDB CASE (first match by priority,
    children inside their parent)."""
    service = most_common(paths, "aws", "ServiceName")
    region = most_common(paths, "aws", "RegionId")
    europe = sorted(
        {most_common(paths, "azure", "RegionId"), most_common(paths, "gcp", "RegionId")}
    )
    europe_vql = ", ".join(f"'{value}'" for value in europe)

    def make(name, vql, **kwargs):
        with committed():
            return segment_create(organization, name=name, filter_tree=parse_vql(vql), **kwargs)

    top = make(
        "All clouds",
        "costs.provider IN ('aws', 'azure', 'gcp')",
        track_unallocated=True,
        include_credits=True,
        include_refunds=False,
    )
    aws = make("AWS", "costs.provider = 'aws'", parent=top, priority=1, track_unallocated=True)
    # Both grandchildren can match a row of the common service in the common region: the
    # lower priority number takes it.
    by_region = make(
        "AWS region",
        f"costs.provider = 'aws' AND costs.region = '{region}'",
        parent=aws,
        priority=2,
    )
    by_service = make(
        "AWS service",
        f"costs.provider = 'aws' AND costs.service = '{service}'",
        parent=aws,
        priority=1,
    )
    nearby = make(
        "Azure and GCP regions",
        f"costs.provider IN ('azure', 'gcp') AND costs.region IN ({europe_vql})",
        parent=top,
        priority=2,
    )
    gcp = make("GCP", "costs.provider = 'gcp'", parent=top, priority=3)
    europe_sql = ", ".join(f"'{value}'" for value in europe)
    case = f"""CASE
        WHEN provider = 'aws' AND ServiceName = '{service}' THEN 'service'
        WHEN provider = 'aws' AND RegionId = '{region}' THEN 'region'
        WHEN provider = 'aws' THEN 'aws'
        WHEN provider IN ('azure', 'gcp') AND RegionId IN ({europe_sql}) THEN 'nearby'
        WHEN provider = 'gcp' THEN 'gcp'
        ELSE 'top' END"""
    labels = {
        top: ["service", "region", "aws", "nearby", "gcp", "top"],
        aws: ["service", "region", "aws"],
        by_service: ["service"],
        by_region: ["region"],
        nearby: ["nearby"],
        gcp: ["gcp"],
    }
    unallocated = {top: ["top"], aws: ["aws"]}
    return case, labels, unallocated


def test_every_figure_of_a_tree_spanning_providers_matches_plain_sql(organization, clouds):
    case, labels, unallocated = build_tree(organization, clouds)
    segments = list(labels)
    assert {s.status for s in Segment.objects.filter(organization=organization)} == {
        Status.COMPLETED
    }
    assert segments[0].provider is None  # the top spans providers
    monthly = selectors.monthly_metrics([segment.pk for segment in segments])
    for segment, segment_labels in labels.items():
        expected = oracle(clouds, case, segment_labels, None, "month")
        shown = {item["month"]: item for item in monthly[segment.pk]}
        assert sorted(shown) == sorted(expected), segment.name
        for month, figures in expected.items():
            assert_figures(shown[month], figures, f"{segment.name} {month}")
    # Savings are never negative here and never count purchases: on-demand ≥ usage effective.
    top_month = monthly[segments[0].pk][0]
    assert top_month["on_demand_cost"] >= top_month["savings"] > 0


def test_archera_surface_shows_the_same_figures_as_plain_sql(organization, clouds, token_client):
    case, labels, _ = build_tree(organization, clouds)
    by_name = {segment.name: segment for segment in labels}
    aws = token_client.get(f"/beta/v1/org/{organization.pk}/segments?provider=aws").json()
    shown = {item["name"]: item for item in aws}
    for name in ("AWS", "AWS service", "AWS region"):
        expected = oracle(clouds, case, labels[by_name[name]], None, "month")
        for item in shown[name]["metrics"]["monthly"]:
            assert_figures(item, expected[item["month"]], f"archera {name}")
    segment = by_name["AWS service"]
    daily = token_client.get(
        f"/beta/v1/org/{organization.pk}/segments/{segment.pk}/metrics/daily"
        "?start_date=2026-08-01&end_date=2026-09-30"
    ).json()
    expected = oracle(clouds, case, labels[segment], None, "day")
    assert [item["date"] for item in daily] == sorted(expected)
    for item in daily:
        assert_figures(item, expected[item["date"]], f"daily {item['date']}")


def test_vantage_costs_apply_report_settings_like_plain_sql(organization, clouds, token_client):
    case, labels, unallocated = build_tree(organization, clouds)
    top = next(iter(labels))
    # The top's settings: credits in, refunds out; discounts and tax in (defaults); amortized.
    kinds = ["usage", "purchase", "credit", "discount", "tax"]
    body = token_client.get(f"/v2/segments/{top.token}/costs?granularity=month").json()
    lines = {(line["token"], line["line"]): line for line in body["lines"]}
    expectations = {
        (s.token, Line.TOTAL): labels[s] for s in labels if s.parent_id in (None, top.pk)
    }
    expectations[(top.token, Line.UNALLOCATED)] = unallocated[top]
    for key, line_labels in expectations.items():
        expected = oracle(clouds, case, line_labels, kinds, "month")
        points = {point["month"]: point for point in lines[key]["points"]}
        assert sorted(points) == sorted(expected), key
        for month, figures in expected.items():
            assert points[month]["cost"] == pytest.approx(
                float(round(figures["effective_cost"], 6)), abs=2e-6
            ), (key, month)
            assert points[month]["savings"] == pytest.approx(
                float(round(figures["savings"], 6)), abs=2e-6
            )
    # Left-out refunds are real money: the totals differ by exactly the refund rows.
    refunds = oracle(clouds, case, labels[top], ["refund"], "month")
    everything = oracle(clouds, case, labels[top], None, "month")
    assert all(refunds[m]["effective_cost"] < 0 for m in refunds)
    for month, point in ((p["month"], p) for p in lines[(top.token, Line.TOTAL)]["points"]):
        included = everything[month]["effective_cost"] - refunds[month]["effective_cost"]
        assert point["cost"] == pytest.approx(float(round(included, 6)), abs=2e-6)


def test_unallocated_lines_are_the_rows_no_child_took(organization, clouds):
    case, labels, unallocated = build_tree(organization, clouds)
    for segment, segment_labels in unallocated.items():
        expected = oracle(clouds, case, segment_labels, None, "month")
        stored = (
            segment.metrics.filter(line=Line.UNALLOCATED, granularity=Granularity.MONTH)
            .values("period_start")
            .annotate(billed=Sum("billed_cost"), resources=Sum("resource_count"))
        )
        by_month = {row["period_start"].strftime("%Y-%m"): row for row in stored}
        assert sorted(by_month) == sorted(expected)
        for month, figures in expected.items():
            assert float(by_month[month]["billed"]) == pytest.approx(
                float(figures["billed_cost"]), abs=1e-6
            )


def test_a_reimport_refreshes_trees_that_span_providers(organization, tmp_path):
    """The top of a tree over every provider has no provider; an import of any provider must
    still refresh it (and its child scoped to one provider) for the months it touched."""
    first = generate(tmp_path, "aws", rows=600, seed=1, months=MONTHS)
    gcp_file = generate(tmp_path, "gcp", rows=600, seed=2, months=MONTHS)
    with committed():
        aws = integration_create(organization, "aws", "aws")
        gcp = integration_create(organization, "gcp", "gcp")
        focus_import(aws, first)
        focus_import(gcp, gcp_file)
    with committed():
        top = segment_create(
            organization,
            name="Every cloud",
            filter_tree=parse_vql("costs.provider IN ('aws', 'azure', 'gcp')"),
        )
    with committed():
        child = segment_create(
            organization,
            name="AWS only",
            filter_tree=parse_vql("costs.provider = 'aws'"),
            parent=top,
        )
    # The AWS export is delivered again with other figures for the same months.
    second = generate(tmp_path, "aws", rows=700, seed=9, months=MONTHS)
    with committed():
        focus_import(aws, second)
    paths = {"aws": second, "gcp": gcp_file}
    case = "CASE WHEN provider = 'aws' THEN 'aws' ELSE 'rest' END"
    monthly = selectors.monthly_metrics([top.pk, child.pk])
    for segment, segment_labels in ((top, ["aws", "rest"]), (child, ["aws"])):
        segment.refresh_from_db()
        assert segment.status == Status.COMPLETED
        expected = oracle(paths, case, segment_labels, None, "month")
        shown = {item["month"]: item for item in monthly[segment.pk]}
        for month, figures in expected.items():
            assert_figures(shown[month], figures, f"{segment.name} {month}")


def test_refresh_segments_by_provider_includes_trees_spanning_providers(organization, tmp_path):
    with committed():
        aws = integration_create(organization, "aws", "aws")
        focus_import(aws, generate(tmp_path, "aws", rows=300, seed=3, months=MONTHS))
        spanning = segment_create(
            organization,
            name="Every cloud",
            filter_tree=parse_vql("costs.provider IN ('aws', 'gcp')"),
        )
    out = StringIO()
    call_command("refresh_segments", "--org", str(organization.pk), "--provider", "aws", stdout=out)
    assert f"'{spanning.name}'" in out.getvalue()


def test_a_child_filter_must_select_its_parents_provider_on_every_surface(
    organization, token_client
):
    with committed():
        parent = segment_create(
            organization, name="AWS", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    response = token_client.post(
        "/v2/segments",
        {
            "title": "GCP under AWS",
            "parent_segment_token": parent.token,
            "filter": "costs.provider = 'gcp'",
        },
        format="json",
    )
    assert response.status_code in (400, 422)
    assert "aws" in response.json()["errors"][0]
    assert not Segment.objects.filter(name="GCP under AWS").exists()
    child = token_client.post(
        "/v2/segments",
        {
            "title": "EC2",
            "parent_segment_token": parent.token,
            "filter": "costs.service = 'AmazonEC2'",
        },
        format="json",
    )
    assert child.status_code == 201, child.json()
    moved = token_client.put(
        f"/v2/segments/{child.json()['token']}",
        {"filter": "costs.provider = 'gcp' AND costs.service = 'Compute'"},
        format="json",
    )
    assert moved.status_code in (400, 422)
    assert Segment.objects.get(token=child.json()["token"]).provider == "aws"
