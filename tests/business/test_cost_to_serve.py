"""Cost to serve against an independent computation: DuckDB over the FOCUS file and the usage
events, usage shares × the segment's daily cost."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import duckdb
import pytest

from business import services
from business.cost_to_serve import (
    CENT,
    IDLE,
    UNATTRIBUTED,
    cost_to_serve,
    customer_trend,
    largest_remainder,
    month_range,
    report_source,
    segment_source,
)
from metrics import services as metric_services

from ..segments.conftest import committed, vql_segment
from .conftest import ingest

pytestmark = pytest.mark.django_db

AUGUST = month_range(datetime.date(2026, 8, 1))


def generated_usage(organization, customers: int = 40, events: int = 600, seed: int = 3):
    """Random API calls of ``customers`` customers in August, none on the 20th to the 22nd."""
    rng = random.Random(seed)
    for number in range(customers):
        metric_services.customer_create(
            organization, name=f"Customer {number:03d}", external_id=f"c{number:03d}"
        )
    days = [day for day in range(1, 32) if day not in (20, 21, 22)]
    batch = [
        {
            "id": f"e{index}",
            "code": "api_calls",
            "customer_id": f"c{rng.randrange(customers):03d}",
            "timestamp": f"2026-08-{rng.choice(days):02d}T{rng.randrange(24):02d}:00:00Z",
            "properties": {"calls": rng.randrange(1, 500), "region": rng.choice(["eu", "us"])},
        }
        for index in range(events)
    ]
    for start in range(0, len(batch), 500):
        ingest(organization, batch[start : start + 500])
    return batch


@pytest.fixture
def live_metric(organization, api_calls):
    with committed():
        return services.business_metric_create(
            organization,
            title="API calls",
            billable_metric=api_calls,
            label_dimension="customer",
            price_per_unit="0.002",
        )


def independent_split(focus_file, events) -> tuple[dict[str, Decimal], Decimal, Decimal]:
    """Per customer: Σ_day cost_day × calls_cd / calls_d; the idle cost; the total. Cost rows
    as a segment counts them by default: everything but credits and corrections, amortized."""
    connection = duckdb.connect()
    connection.execute("CREATE TABLE usage (customer VARCHAR, day DATE, calls DECIMAL(38, 10))")
    connection.executemany(
        "INSERT INTO usage VALUES (?, ?, ?)",
        [
            (event["customer_id"], event["timestamp"][:10], event["properties"]["calls"])
            for event in events
        ],
    )
    connection.execute(
        f"""
        CREATE TABLE cost AS
        SELECT CAST(substr(ChargePeriodStart, 1, 10) AS DATE) AS day,
               sum(CAST(EffectiveCost AS DECIMAL(38, 10))) AS cost
        FROM read_csv('{focus_file}', all_varchar=true, header=true)
        WHERE coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
          AND substr(ChargePeriodStart, 1, 7) = '2026-08'
        GROUP BY 1
        """
    )
    shares = connection.execute(
        """
        WITH daily AS (SELECT customer, day, sum(calls) AS calls FROM usage GROUP BY ALL),
             totals AS (SELECT day, sum(calls) AS calls FROM daily GROUP BY day)
        SELECT daily.customer,
               sum(CAST(cost.cost AS DOUBLE) * CAST(daily.calls AS DOUBLE)
                   / CAST(totals.calls AS DOUBLE))
        FROM daily JOIN totals USING (day) JOIN cost USING (day)
        GROUP BY daily.customer
        """
    ).fetchall()
    idle = connection.execute(
        "SELECT coalesce(sum(cost), 0) FROM cost WHERE day NOT IN (SELECT day FROM usage)"
    ).fetchone()[0]
    total = connection.execute("SELECT sum(cost) FROM cost").fetchone()[0]
    return {customer: Decimal(str(value)) for customer, value in shares}, idle, total


def test_cost_to_serve_matches_usage_shares_times_segment_cost(
    organization, imported, api_calls, live_metric
):
    events = generated_usage(organization)
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    split = cost_to_serve(segment_source(segment), live_metric, *AUGUST)
    expected, idle, total = independent_split(imported, events)

    assert split.exact_total == total
    assert split.total == total.quantize(CENT)
    assert {line.key for line in split.customers} == set(expected)
    for line in split.customers:
        assert abs(line.exact_cost - expected[line.key]) < Decimal("0.000001"), line.key
        assert abs(line.cost - line.exact_cost) <= CENT
    lines = {line.key: line for line in split.remainder}
    assert lines[IDLE].exact_cost == idle and idle > 0
    assert lines[UNATTRIBUTED].cost == 0
    # Every cent is somewhere: the rounded lines add up to the rounded total.
    assert sum(line.cost for line in split.lines) == split.total
    # Sorted by cost to serve, largest first; revenue from the metric's price.
    costs = [line.cost for line in split.customers]
    assert costs == sorted(costs, reverse=True)
    first = split.customers[0]
    assert first.revenue == (first.usage * Decimal("0.002")).quantize(CENT)
    assert first.gross_margin == first.revenue - first.cost


def test_a_cost_report_source_splits_the_reports_cost(
    organization, imported, api_calls, live_metric, report
):
    generated_usage(organization, customers=5, events=80, seed=9)
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    by_report = cost_to_serve(report_source(report, AUGUST[1]), live_metric, *AUGUST)
    by_segment = cost_to_serve(segment_source(segment), live_metric, *AUGUST)
    assert by_report.total == by_segment.total
    assert [(line.key, line.cost) for line in by_report.lines] == [
        (line.key, line.cost) for line in by_segment.lines
    ]


def test_unknown_and_unlabelled_usage_is_unattributed_not_dropped(organization, imported):
    metric_services.customer_create(organization, name="Acme", external_id="acme")
    metric = services.business_metric_create(
        organization,
        title="Seats",
        values=services.value_rows(
            [
                {"date": "2026-08-01", "amount": 3, "label": "acme"},
                {"date": "2026-08-01", "amount": 1, "label": "who"},
                {"date": "2026-08-01", "amount": 2},
            ]
        ),
    )
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    split = cost_to_serve(segment_source(segment), metric, *AUGUST)
    first_day = segment_source(segment).daily_costs(*AUGUST)[0][datetime.date(2026, 8, 1)]
    acme = split.line_of("acme")
    unattributed = next(line for line in split.remainder if line.key == UNATTRIBUTED)
    assert acme.exact_cost == first_day * 3 / 6
    assert unattributed.exact_cost == first_day * 3 / 6
    assert unattributed.usage == 3
    assert sum(line.cost for line in split.lines) == split.total


@pytest.mark.parametrize("seed", range(20))
def test_largest_remainder_always_adds_up_to_the_cent(seed):
    rng = random.Random(seed)
    total = Decimal(rng.randrange(-10_000, 1_000_000)) / 100
    weights = [Decimal(rng.randrange(1, 1000)) for _ in range(rng.randrange(1, 60))]
    exact = {f"k{i}": total * w / sum(weights) for i, w in enumerate(weights)}
    rounded = largest_remainder(exact, total)
    assert sum(rounded.values()) == total
    assert all(abs(rounded[key] - exact[key]) < CENT for key in exact)


def test_the_trend_agrees_with_each_months_split(organization, imported, api_calls, live_metric):
    generated_usage(organization, customers=6, events=200, seed=4)
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    source = segment_source(segment)
    trend = customer_trend(source, live_metric, "c002", datetime.date(2026, 9, 1), months=3)
    assert [point.month for point in trend] == [
        datetime.date(2026, 7, 1),
        datetime.date(2026, 8, 1),
        datetime.date(2026, 9, 1),
    ]
    august = cost_to_serve(source, live_metric, *AUGUST).line_of("c002")
    assert trend[1].usage == august.usage
    assert abs(trend[1].cost - august.cost) <= CENT  # rounded alone vs largest remainder
    assert trend[0].cost == trend[2].cost == 0  # no usage in July or September
