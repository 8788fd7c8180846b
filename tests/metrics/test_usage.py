"""Usage figures from ingested events, for every aggregation, matrix form, group and rounding.

Each expected figure is computed in the test from the raw events with plain Python, never taken
from the implementation.
"""

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest

from metrics import selectors, services
from tests.metrics.conftest import date, event, ingest

pytestmark = pytest.mark.django_db
D = Decimal

# (timestamp day, time, value, user): three days, with events on both sides of midnight.
RAW = [
    ("2026-03-01", "00:00:00", "1", "ann"),
    ("2026-03-01", "12:30:00", "2.5", "bob"),
    ("2026-03-01", "23:59:59", "-4", "ann"),
    ("2026-03-02", "00:00:00", "10", "cyd"),
    ("2026-03-02", "08:00:00", "0.25", "ann"),
    ("2026-03-04", "18:00:00", "7", "bob"),
    ("2026-04-01", "00:00:01", "3", "dan"),
]


def _reference(aggregation: str, rows: list[tuple]) -> Decimal:
    values = [D(value) for _day, _time, value, _user in rows]
    if aggregation == "COUNT":
        return D(len(rows))
    if aggregation == "SUM":
        return sum(values, D(0))
    if aggregation == "MIN":
        return min(values)
    if aggregation == "MAX":
        return max(values)
    if aggregation == "MEAN":
        return sum(values, D(0)) / len(values)
    if aggregation == "LATEST":
        return D(max(rows, key=lambda row: (row[0], row[1]))[2])
    if aggregation == "COUNT_DISTINCT":
        return D(len({user for *_rest, user in rows}))
    raise AssertionError(aggregation)


def _totals(metric, customer, window, start, end):
    services.usage_refresh(metric, date(start), date(end), customer)
    [result] = selectors.metric_usage(
        metric, window=window, start=date(start), end=date(end), customers=[customer]
    )
    return {period["start"].isoformat(): period["total"] for period in result["periods"]}


AGGREGATIONS = ["COUNT", "SUM", "MIN", "MAX", "MEAN", "LATEST", "COUNT_DISTINCT"]


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_each_aggregation_per_day_and_per_month(organization, customer, make_metric, aggregation):
    key = "user" if aggregation == "COUNT_DISTINCT" else "value"
    metric = make_metric(
        code="calls",
        aggregation_type=aggregation,
        aggregation_key=None if aggregation == "COUNT" else key,
    )
    # Ingested in reverse order: LATEST must go by timestamp, not by arrival.
    ingest(
        organization,
        [
            event(index, customer, day, time, code="calls", value=value, user=user)
            for index, (day, time, value, user) in reversed(list(enumerate(RAW)))
        ],
    )

    by_day = defaultdict(list)
    by_month = defaultdict(list)
    for row in RAW:
        by_day[row[0]].append(row)
        by_month[row[0][:7] + "-01"].append(row)

    daily = _totals(metric, customer, "day", "2026-03-01", "2026-03-05")
    days = [f"2026-03-0{n}" for n in range(1, 6)]
    assert daily == {
        day: _reference(aggregation, by_day[day]) if by_day[day] else D(0) for day in days
    }

    monthly = _totals(metric, customer, "month", "2026-03-01", "2026-04-30")
    assert monthly == {
        month: _reference(aggregation, rows) for month, rows in sorted(by_month.items())
    }


def test_mean_over_a_month_weights_every_event_not_every_day(organization, customer, make_metric):
    metric = make_metric(code="latency", aggregation_type="MEAN", aggregation_key="ms")
    values = {"2026-03-01": [1, 2, 3], "2026-03-02": [10]}
    ingest(
        organization,
        [
            event(f"{day}-{i}", customer, day, f"0{i}:00:00", code="latency", ms=value)
            for day, day_values in values.items()
            for i, value in enumerate(day_values)
        ],
    )
    everything = [v for day_values in values.values() for v in day_values]
    expected = D(sum(everything)) / len(everything)  # 4, where a mean of daily means gives 6
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {
        "2026-03-01": expected
    }


def test_count_distinct_counts_a_value_seen_on_several_days_once(
    organization, customer, make_metric
):
    metric = make_metric(code="mau", aggregation_type="COUNT_DISTINCT", aggregation_key="user")
    seen = {"2026-03-01": ["ann", "bob"], "2026-03-02": ["ann", "cyd"], "2026-03-31": ["bob", 7]}
    ingest(
        organization,
        [
            event(f"{day}-{user}", customer, day, code="mau", user=user)
            for day, users in seen.items()
            for user in users
        ],
    )
    expected_month = len({str(user) for users in seen.values() for user in users})
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {
        "2026-03-01": D(expected_month)
    }
    daily = _totals(metric, customer, "day", "2026-03-01", "2026-03-02")
    assert daily == {day: D(len(set(seen[day]))) for day in ("2026-03-01", "2026-03-02")}


def test_latest_breaks_timestamp_ties_by_the_last_ingested(organization, customer, make_metric):
    metric = make_metric(code="seats", aggregation_type="LATEST", aggregation_key="n")
    ingest(organization, [event("a", customer, "2026-03-03", "10:00:00", code="seats", n=5)])
    ingest(organization, [event("b", customer, "2026-03-03", "10:00:00", code="seats", n=8)])
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {"2026-03-01": 8}


def _lines(metric, customer, start, end, window="month"):
    services.usage_refresh(metric, date(start), date(end), customer)
    [result] = selectors.metric_usage(
        metric, window=window, start=date(start), end=date(end), customers=[customer]
    )
    return [
        {
            "period": period["start"].isoformat(),
            "dimensions": line["dimensions"],
            "other": line["other"],
            "group": line["usage_group"],
            "value": line["value"],
        }
        for period in result["periods"]
        for line in period["lines"]
    ]


def test_single_matrix_reports_every_value_and_counts_unlisted_ones_in_other(
    organization, customer, make_metric
):
    metric = make_metric(
        code="req",
        aggregation_type="SUM",
        aggregation_key="n",
        segmentation_matrix={"key": "region", "values": ["eu", "us", "apac"]},
    )
    raw = [("eu", 3), ("eu", 4), ("us", 5), ("mars", 100), (None, 1)]
    ingest(
        organization,
        [
            event(i, customer, "2026-03-10", code="req", n=n, **({"region": r} if r else {}))
            for i, (r, n) in enumerate(raw)
        ],
    )
    listed = ["eu", "us", "apac"]
    expected = [
        {
            "period": "2026-03-01",
            "dimensions": {"region": value},
            "other": False,
            "group": None,
            "value": D(sum(n for r, n in raw if r == value)),
        }
        for value in listed
    ] + [
        {
            "period": "2026-03-01",
            "dimensions": None,
            "other": True,
            "group": None,
            "value": D(sum(n for r, n in raw if r not in listed)),
        }
    ]
    assert _lines(metric, customer, "2026-03-01", "2026-03-31") == expected
    # apac had no events and still reports zero
    assert expected[2]["value"] == 0


def test_double_matrix_reports_every_pair(organization, customer, make_metric):
    regions, tiers = ["eu", "us"], ["free", "pro"]
    metric = make_metric(
        code="req",
        aggregation_type="COUNT",
        segmentation_matrix={
            "dimension1": {"key": "region", "values": regions},
            "dimension2": {"key": "tier", "values": tiers},
        },
    )
    raw = [("eu", "pro"), ("eu", "pro"), ("us", "free"), ("us", "gold"), ("eu", None)]
    ingest(
        organization,
        [
            event(i, customer, "2026-03-10", code="req", region=r, **({"tier": t} if t else {}))
            for i, (r, t) in enumerate(raw)
        ],
    )
    expected = [
        {
            "period": "2026-03-01",
            "dimensions": {"region": r, "tier": t},
            "other": False,
            "group": None,
            "value": D(raw.count((r, t))),
        }
        for r, t in itertools.product(regions, tiers)
    ] + [
        {
            "period": "2026-03-01",
            "dimensions": None,
            "other": True,
            "group": None,
            "value": D(sum(1 for pair in raw if pair[0] not in regions or pair[1] not in tiers)),
        }
    ]
    assert _lines(metric, customer, "2026-03-01", "2026-03-31") == expected


def test_linked_matrix_accepts_only_the_linked_values(organization, customer, make_metric):
    links = {"aws": ["us-east-1", "eu-west-1"], "gcp": ["europe-west1"]}
    metric = make_metric(
        code="vm",
        aggregation_type="MAX",
        aggregation_key="cpus",
        segmentation_matrix={
            "dimension_key": "cloud",
            "linked_dimension_key": "region",
            "values": links,
        },
    )
    raw = [
        ("aws", "us-east-1", 4),
        ("aws", "us-east-1", 16),
        ("gcp", "europe-west1", 2),
        ("gcp", "us-east-1", 64),
    ]
    ingest(
        organization,
        [
            event(i, customer, "2026-03-10", code="vm", cloud=c, region=r, cpus=n)
            for i, (c, r, n) in enumerate(raw)
        ],
    )
    lines = _lines(metric, customer, "2026-03-01", "2026-03-31")
    for cloud, regions in links.items():
        for region in regions:
            values = [n for c, r, n in raw if (c, r) == (cloud, region)]
            [line] = [x for x in lines if x["dimensions"] == {"cloud": cloud, "region": region}]
            assert line["value"] == D(max(values) if values else 0)
    [other] = [x for x in lines if x["other"]]
    assert other["value"] == D(max(n for c, r, n in raw if r not in links[c]))


def test_usage_group_key_splits_usage_per_resource(organization, customer, make_metric):
    metric = make_metric(
        code="storage",
        aggregation_type="MAX",
        aggregation_key="gb",
        usage_group_key="bucket",
        segmentation_matrix={"key": "region", "values": ["eu", "us"]},
    )
    raw = [("eu", "logs", 10), ("eu", "logs", 30), ("eu", "media", 5), ("eu", None, 1)]
    ingest(
        organization,
        [
            event(
                i,
                customer,
                "2026-03-10",
                code="storage",
                region=r,
                gb=n,
                **({"bucket": b} if b else {}),
            )
            for i, (r, b, n) in enumerate(raw)
        ],
    )
    lines = _lines(metric, customer, "2026-03-01", "2026-03-31")
    eu = {line["group"]: line["value"] for line in lines if line["dimensions"] == {"region": "eu"}}
    assert eu == {
        group: D(max(n for _r, b, n in raw if b == group)) for group in ("logs", "media", None)
    }
    # us had no events: one zero line, no group
    assert [line for line in lines if line["dimensions"] == {"region": "us"}] == [
        {
            "period": "2026-03-01",
            "dimensions": {"region": "us"},
            "other": False,
            "group": None,
            "value": D(0),
        }
    ]
    # The customer's total adds the lines up, as an invoice would.
    services.usage_refresh(metric, date("2026-03-01"), date("2026-03-31"), customer)
    [result] = selectors.metric_usage(
        metric,
        window="month",
        start=date("2026-03-01"),
        end=date("2026-03-31"),
        customers=[customer],
    )
    assert result["periods"][0]["total"] == sum(eu.values())


@pytest.mark.parametrize(
    ("rounding", "factor", "values", "expected"),
    [
        ("UP", 1000, [1200, 300], D(2)),  # 1.5 -> 2
        ("DOWN", 1000, [1200, 300], D(1)),
        ("NEAREST", 1000, [1200, 300], D(2)),  # exactly half: away from zero
        ("NEAREST", 1000, [1200, 299], D(1)),
        ("NEAREST_HALF", 1000, [1200, 50], D("1.5")),  # 1.25 -> 1.5
        ("NEAREST_TENTH", 1000, [1200, 50], D("1.3")),  # 1.25 -> 1.3
        ("UP", 2, [-3, -2], D(-2)),  # -2.5 -> -2 (ceiling)
        ("DOWN", 2, [-3, -2], D(-3)),
        ("NEAREST", 2, [-3, -2], D(-3)),  # -2.5 -> -3 (away from zero)
        ("NONE", 4, [3, 2], D("1.25")),
    ],
)
def test_unit_conversion_divides_then_rounds_each_mode(
    organization, customer, make_metric, rounding, factor, values, expected
):
    metric = make_metric(
        code="bytes",
        aggregation_type="SUM",
        aggregation_key="n",
        unit_conversion={"factor": factor, "rounding": rounding},
    )
    ingest(
        organization,
        [event(i, customer, "2026-03-10", code="bytes", n=v) for i, v in enumerate(values)],
    )
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {
        "2026-03-01": expected
    }


def test_late_events_count_in_their_own_day(organization, customer, make_metric):
    metric = make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    ingest(organization, [event(1, customer, "2026-03-05", code="calls", n=5)])
    before = _totals(metric, customer, "day", "2026-03-01", "2026-03-05")
    assert before["2026-03-05"] == 5 and before["2026-03-02"] == 0
    # Arrives days later, stamped March 2nd.
    ingest(organization, [event(2, customer, "2026-03-02", code="calls", n=7)])
    after = _totals(metric, customer, "day", "2026-03-01", "2026-03-05")
    assert after["2026-03-02"] == 7
    assert after["2026-03-05"] == 5
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {"2026-03-01": 12}


def test_replayed_events_are_not_counted_twice(organization, customer, make_metric):
    metric = make_metric(code="calls", aggregation_type="SUM", aggregation_key="n")
    batch = [event(i, customer, "2026-03-05", code="calls", n=i) for i in range(1, 5)]
    first = ingest(organization, batch)
    assert (first.accepted, first.duplicates) == (4, 0)
    again = ingest(organization, batch + [event(9, customer, "2026-03-05", code="calls", n=100)])
    assert (again.accepted, again.duplicates) == (1, 4)
    assert _totals(metric, customer, "month", "2026-03-01", "2026-03-31") == {
        "2026-03-01": D(1 + 2 + 3 + 4 + 100)
    }


def test_usage_is_per_customer_and_series_sum_customers(
    organization, customer, other_customer, make_metric
):
    metric = make_metric(
        code="calls",
        aggregation_type="SUM",
        aggregation_key="n",
        unit_conversion={"factor": 10, "rounding": "UP"},
    )
    ingest(
        organization,
        [
            event(1, customer, "2026-03-05", code="calls", n=11),
            event(2, other_customer, "2026-03-05", code="calls", n=1),
            event(3, other_customer, "2026-03-06", code="calls", n=25),
        ],
    )
    assert _totals(metric, customer, "day", "2026-03-05", "2026-03-06") == {
        "2026-03-05": D(2),
        "2026-03-06": D(0),
    }
    services.usage_refresh(metric, date("2026-03-04"), date("2026-03-06"))
    series = selectors.usage_series(
        metric, organization, "day", date("2026-03-04"), date("2026-03-06")
    )
    # Each customer is converted and rounded on its own (ceil(1.1) + ceil(0.1)), then summed.
    assert [(p.start.isoformat(), p.value) for p in series] == [
        ("2026-03-04", D(0)),
        ("2026-03-05", D(2 + 1)),
        ("2026-03-06", D(3)),
    ]
    services.usage_refresh(metric, date("2026-03-01"), date("2026-03-31"), other_customer)
    one = selectors.usage_series(
        metric, organization, "month", date("2026-03-01"), date("2026-03-31"), other_customer
    )
    assert [(p.start, p.end, p.value) for p in one] == [
        (date("2026-03-01"), date("2026-03-31"), D(3))  # ceil((1 + 25) / 10)
    ]


def test_month_windows_are_clipped_to_the_range(organization, customer, make_metric):
    metric = make_metric(code="calls")
    ingest(
        organization,
        [
            event(1, customer, "2026-03-01", code="calls"),
            event(2, customer, "2026-03-20", code="calls"),
            event(3, customer, "2026-04-02", code="calls"),
        ],
    )
    services.usage_refresh(metric, date("2026-03-15"), date("2026-04-01"), customer)
    [result] = selectors.metric_usage(
        metric,
        window="month",
        start=date("2026-03-15"),
        end=date("2026-04-01"),
        customers=[customer],
    )
    assert [(p["start"], p["end"], p["total"]) for p in result["periods"]] == [
        (date("2026-03-15"), date("2026-03-31"), D(1)),
        (date("2026-04-01"), date("2026-04-01"), D(0)),
    ]


def test_series_of_another_organization_is_not_found(organization, other_organization, make_metric):
    from core.errors import NotFoundError

    metric = make_metric()
    with pytest.raises(NotFoundError, match=r"^Billable metric not found\.$"):
        selectors.usage_series(
            metric, other_organization, "day", date("2026-03-01"), date("2026-03-02")
        )
    theirs = services.customer_create(other_organization, name="Theirs", external_id="theirs")
    with pytest.raises(NotFoundError, match=r"^Customer not found\.$"):
        selectors.usage_series(
            metric, organization, "day", date("2026-03-01"), date("2026-03-02"), theirs
        )
