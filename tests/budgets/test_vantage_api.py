"""/v2/budgets, /v2/budget_alerts, /v2/cost_reports/{token}/forecasted_costs and
/v2/report_forecasts: Vantage shapes, figures against the known cost rows, errors, scoping."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Budget, BudgetAlert, ReportForecast
from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..costrows import stored_rows
from ..segments.conftest import committed
from .conftest import expected_total

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
BUDGET_KEYS = {
    "token",
    "name",
    "workspace_token",
    "user_token",
    "created_by_token",
    "cost_report_token",
    "created_at",
    "budget_alert_tokens",
    "child_budget_tokens",
    "periods",
    "performance",
}
ALERT_KEYS = {
    "token",
    "budget_tokens",
    "created_at",
    "workspace_token",
    "user_token",
    "user_tokens",
    "duration_in_days",
    "threshold",
    "period_to_track",
    "integration_provider",
    "recipient_channels",
}
PERIODS = [
    {"start_at": "2026-08-01", "end_at": "2026-08-31", "amount": 3000},
    {"start_at": "2026-09-01", "amount": 2500.5},
]


def post(client, path, **body):
    return client.post(path, body, format="json")


def put(client, path, **body):
    return client.put(path, body, format="json")


def errors_of(response, status: int) -> list[str]:
    assert response.status_code == status, response.content
    return response.json()["errors"]


def test_budget_crud_in_vantage_shape_with_performance_from_the_cost_rows(token_client, aws_report):
    created = post(
        token_client,
        "/v2/budgets",
        name="AWS",
        cost_report_token=aws_report.token,
        periods=PERIODS,
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == BUDGET_KEYS
    assert re.match(r"^bdgt_[0-9a-f]{16}$", body["token"])
    assert ISO_Z.match(body["created_at"])
    assert body["cost_report_token"] == aws_report.token
    assert body["workspace_token"] == aws_report.workspace.token
    assert body["periods"] == [
        {"start_at": "2026-08-01", "end_at": "2026-08-31", "amount": "3000.0"},
        {"start_at": "2026-09-01", "end_at": "2026-09-30", "amount": "2500.5"},
    ]
    # The actual of each period: the rows the store holds, summed with pyarrow.
    rows = stored_rows(aws_report.organization_id)
    august = sum(r["effective_cost"] for r in rows if r["charge_period_start"].month == 8)
    september = sum(r["effective_cost"] for r in rows if r["charge_period_start"].month == 9)
    assert august == expected_total(date(2026, 8, 1), date(2026, 8, 31))
    performance = body["performance"]
    assert [(p["date"], Decimal(p["actual"]), p["amount"]) for p in performance] == [
        ("2026-08-01", august, "3000.0"),
        ("2026-09-01", september, "2500.5"),
    ]
    assert all(re.match(r"^\d+\.\d+$", p["actual"]) for p in performance)
    token = body["token"]
    fetched = token_client.get(f"/v2/budgets/{token}").json()
    assert fetched == body
    assert (
        "performance"
        not in token_client.get(f"/v2/budgets/{token}?include_performance=false").json()
    )

    updated = put(
        token_client,
        f"/v2/budgets/{token}",
        name="AWS total",
        periods=[{"start_at": "2026-09-01", "end_at": "2026-09-30", "amount": 100}],
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["name"] == "AWS total"
    assert [p["amount"] for p in updated.json()["periods"]] == ["100.0"]
    listed = token_client.get("/v2/budgets?q=total").json()
    assert [b["token"] for b in listed["budgets"]] == [token]
    assert listed["links"]["next"] is None
    assert token_client.delete(f"/v2/budgets/{token}").status_code == 204
    assert token_client.get(f"/v2/budgets/{token}").status_code == 404


def test_hierarchical_budget_adds_up_its_children(token_client, aws_report, organization):
    ec2 = post(
        token_client,
        "/v2/cost_reports",
        title="EC2",
        filter="costs.provider = 'aws' AND costs.service = 'AmazonEC2'",
    ).json()
    s3 = post(
        token_client,
        "/v2/cost_reports",
        title="S3",
        filter="costs.provider = 'aws' AND costs.service = 'AmazonS3'",
    ).json()
    september = [{"start_at": "2026-09-01", "end_at": "2026-09-30", "amount": 2000}]
    children = [
        post(
            token_client, "/v2/budgets", name=name, cost_report_token=token, periods=september
        ).json()["token"]
        for name, token in (("EC2", ec2["token"]), ("S3", s3["token"]))
    ]
    parent = post(
        token_client,
        "/v2/budgets",
        name="Platform",
        cost_report_token=aws_report.token,  # ignored for hierarchical budgets, as in Vantage
        child_budget_tokens=children,
        periods=[{"start_at": "2026-01-01", "amount": 1}],
    )
    assert parent.status_code == 201, parent.json()
    body = parent.json()
    assert body["child_budget_tokens"] == children
    assert body["cost_report_token"] is None
    assert body["periods"] == [
        {"start_at": "2026-09-01", "end_at": "2026-09-30", "amount": "4000.0"}
    ]
    total = expected_total(date(2026, 9, 1), date(2026, 9, 30))
    assert Decimal(body["performance"][0]["actual"]) == total
    ec2_only = expected_total(date(2026, 9, 1), date(2026, 9, 30), "AmazonEC2")
    child = token_client.get(f"/v2/budgets/{children[0]}").json()
    assert Decimal(child["performance"][0]["actual"]) == ec2_only
    # A budget cannot become the child of its own child.
    cycle = put(token_client, f"/v2/budgets/{children[0]}", child_budget_tokens=[body["token"]])
    assert errors_of(cycle, 422)[0].startswith("child_budget_tokens:")


def test_a_segment_report_token_is_tracked_as_the_segment(token_client, organization, aws_costs):
    with committed():
        segment = segment_create(
            organization,
            name="Storage",
            filter_tree=parse_vql("costs.provider = 'aws' AND costs.service = 'AmazonS3'"),
        )
    segment.refresh_from_db()
    assert segment.report_token
    created = post(
        token_client,
        "/v2/budgets",
        name="Storage",
        cost_report_token=segment.report_token,
        periods=[{"start_at": "2026-08-01", "amount": 500}],
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["cost_report_token"] == segment.report_token
    assert Decimal(body["performance"][0]["actual"]) == expected_total(
        date(2026, 8, 1), date(2026, 8, 31), "AmazonS3"
    )
    assert Budget.objects.get(token=body["token"]).segment == segment


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"periods": PERIODS}, 400, "name"),
        ({"name": "x", "periods": [{"start_at": "2026-08-01", "amount": -1}]}, 400, "periods"),
        ({"name": "x", "periods": [{"start_at": "2026-13-01", "amount": 1}]}, 400, "periods"),
        (
            {
                "name": "x",
                "periods": [
                    {"start_at": "2026-08-01", "end_at": "2026-08-31", "amount": 1},
                    {"start_at": "2026-08-15", "amount": 1},
                ],
            },
            400,
            "periods",
        ),
        (
            {
                "name": "x",
                "periods": [{"start_at": "2026-08-31", "end_at": "2026-08-01", "amount": 1}],
            },
            400,
            "periods",
        ),
        # Past the largest amount a store keeps to the cent (this one came back as 1e14: a 500).
        (
            {"name": "x", "periods": [{"start_at": "2000-01-01", "amount": 99999999999999.98}]},
            400,
            "periods",
        ),
        ({"name": "x", "periods": [{"start_at": "2026-08-01", "amount": "100"}]}, 400, "periods"),
        ({"name": "x", "child_budget_tokens": [0]}, 400, "child_budget_tokens"),
        (
            {
                "name": "x",
                "periods": [{"start_at": "2020-01-01", "end_at": "2026-12-31", "amount": 1}],
            },
            400,
            "periods",
        ),
        ({"name": "x", "cost_report_token": "rprt_0000000000000000"}, 404, "cost_report_token"),
        (
            {"name": "x", "child_budget_tokens": ["bdgt_0000000000000000"]},
            404,
            "child_budget_tokens",
        ),
    ],
)
def test_bad_budgets_are_refused_naming_the_field(token_client, aws_report, body, status, field):
    response = post(token_client, "/v2/budgets", **body)
    assert errors_of(response, status)[0].startswith(f"{field}"), response.json()
    assert Budget.objects.count() == 0


def test_the_largest_amount_is_kept_to_the_cent_and_tiny_ones_are_rounded(token_client, aws_report):
    created = post(token_client, "/v2/budgets", name="Big", cost_report_token=aws_report.token)
    token = created.json()["token"]
    periods = [
        {"start_at": "2000-01-01", "end_at": "2000-01-01", "amount": 9999999999999.99},
        {"start_at": "2000-01-02", "end_at": "2000-01-02", "amount": 1e-7},
    ]
    response = put(token_client, f"/v2/budgets/{token}", periods=periods)
    assert response.status_code == 200, response.json()
    again = token_client.get(f"/v2/budgets/{token}").json()
    assert [Decimal(p["amount"]) for p in again["periods"]] == [
        Decimal("9999999999999.99"),
        Decimal(0),
    ]


def test_periods_years_apart_are_measured_each_and_the_list_still_reads(token_client, aws_report):
    # Once a 500 (no month after December 9999) and a 400 on every read of the list (the costs
    # were read from the first period's start to today: more days than one query allows).
    periods = [
        {"start_at": "0001-01-01", "amount": 1},
        {"start_at": "2026-08-01", "amount": 1},
        {"start_at": "9999-12-01", "amount": 1},
    ]
    created = post(
        token_client, "/v2/budgets", name="Far", cost_report_token=aws_report.token, periods=periods
    )
    assert created.status_code == 201, created.json()
    assert created.json()["periods"][-1]["end_at"] == "9999-12-31"
    listed = token_client.get("/v2/budgets")
    assert listed.status_code == 200, listed.json()
    performance = listed.json()["budgets"][0]["performance"]
    assert [(p["date"], Decimal(p["actual"])) for p in performance] == [
        ("0001-01-01", 0),
        ("2026-08-01", expected_total(date(2026, 8, 1), date(2026, 8, 31))),
    ]


def test_another_organization_sees_nothing_and_readers_cannot_write(
    token_client, read_client, other_token_client, aws_report
):
    budget = post(
        token_client, "/v2/budgets", name="AWS", cost_report_token=aws_report.token, periods=PERIODS
    ).json()
    alert = post(token_client, "/v2/budget_alerts", budget_tokens=[budget["token"]], threshold=80)
    alert = alert.json()
    for path in (f"/v2/budgets/{budget['token']}", f"/v2/budget_alerts/{alert['token']}"):
        assert other_token_client.get(path).status_code == 404
        assert put(other_token_client, path, threshold=5, name="x").status_code == 404
        assert other_token_client.delete(path).status_code == 404
        assert read_client.get(path).status_code == 200
        assert read_client.delete(path).status_code == 403
    assert other_token_client.get("/v2/budgets").json()["budgets"] == []
    assert other_token_client.get("/v2/budget_alerts").json()["budget_alerts"] == []
    other_forecast = other_token_client.get(f"/v2/cost_reports/{aws_report.token}/forecasted_costs")
    assert other_forecast.status_code == 404
    assert (
        post(
            other_token_client, "/v2/budgets", name="x", cost_report_token=aws_report.token
        ).status_code
        == 404
    )


def test_budget_alert_crud_in_vantage_shape(token_client, aws_report, user, organization):
    budget = post(
        token_client, "/v2/budgets", name="AWS", cost_report_token=aws_report.token, periods=PERIODS
    ).json()
    user_token = f"usr_{__import__('django.conf').conf.settings.COSTLINE_ENVIRONMENT}_{user.pk}"
    created = post(
        token_client,
        "/v2/budget_alerts",
        budget_tokens=[budget["token"]],
        threshold=75,
        user_tokens=[user_token],
        duration_in_days="",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == ALERT_KEYS
    assert re.match(r"^bdgt_alrt_[0-9a-f]{16}$", body["token"])
    assert body["budget_tokens"] == [budget["token"]]
    assert body["user_tokens"] == [user_token]
    assert body["threshold"] == 75
    assert body["duration_in_days"] is None
    assert body["period_to_track"] == "start_of_the_month"
    assert body["recipient_channels"] == []
    assert token_client.get(f"/v2/budgets/{budget['token']}").json()["budget_alert_tokens"] == [
        body["token"]
    ]
    updated = put(
        token_client,
        f"/v2/budget_alerts/{body['token']}",
        threshold=90,
        duration_in_days="5",
        period_to_track="end_of_the_month",
    )
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["threshold"], updated.json()["duration_in_days"]) == (90, 5)
    assert updated.json()["period_to_track"] == "end_of_the_month"
    listed = token_client.get(f"/v2/budget_alerts?budget_token={budget['token']}").json()
    assert [a["token"] for a in listed["budget_alerts"]] == [body["token"]]
    assert token_client.delete(f"/v2/budget_alerts/{body['token']}").status_code == 204
    assert BudgetAlert.objects.count() == 0


def test_bad_budget_alerts_are_refused_naming_the_field(token_client, aws_report):
    budget = post(
        token_client, "/v2/budgets", name="AWS", cost_report_token=aws_report.token, periods=PERIODS
    ).json()["token"]
    cases = [
        ({"budget_tokens": [budget], "threshold": 0}, 400, "threshold"),
        ({"budget_tokens": [budget]}, 400, "threshold"),
        ({"budget_tokens": [], "threshold": 50}, 400, "budget_tokens"),
        ({"budget_tokens": ["bdgt_0000000000000000"], "threshold": 50}, 404, "budget_tokens"),
        (
            {"budget_tokens": [budget], "threshold": 50, "user_tokens": ["usr_x_1"]},
            404,
            "user_tokens",
        ),
        (
            {"budget_tokens": [budget], "threshold": 50, "duration_in_days": "soon"},
            400,
            "duration_in_days",
        ),
        ({"budget_tokens": [budget], "threshold": "50"}, 400, "threshold"),
        *(
            (
                {"budget_tokens": [budget], "threshold": 50, "duration_in_days": days},
                400,
                "duration_in_days",
            )
            for days in ("05", "32", " ")
        ),
        (
            {"budget_tokens": [budget], "threshold": 50, "period_to_track": "midweek"},
            400,
            "period_to_track",
        ),
        (
            {"budget_tokens": [budget], "threshold": 50, "recipient_channels": ["#nope"]},
            422,
            "recipient_channels",
        ),
    ]
    for body, status, field in cases:
        response = post(token_client, "/v2/budget_alerts", **body)
        assert errors_of(response, status)[0].startswith(field), (body, response.json())
    assert BudgetAlert.objects.count() == 0


def test_forecasted_costs_run_daily_past_the_last_cost_with_an_interval(token_client, aws_report):
    response = token_client.get(f"/v2/cost_reports/{aws_report.token}/forecasted_costs?limit=1000")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"links", "forecasted_costs", "currency"}
    assert body["currency"] == "USD"
    points = body["forecasted_costs"]
    assert points[0]["date"] == "2026-10-01"  # the day after the last cost
    assert set(points[0]) == {"date", "amount", "provider", "service", "lower_bound", "upper_bound"}
    dates = [date.fromisoformat(point["date"]) for point in points]
    assert all((b - a).days == 1 for a, b in zip(dates, dates[1:], strict=False))
    assert dates[-1].day in (28, 29, 30, 31) and dates[-1] >= date(2026, 12, 31)
    for point in points:
        assert (point["provider"], point["service"]) == ("all", "all")
        low, mid, high = (Decimal(point[k]) for k in ("lower_bound", "amount", "upper_bound"))
        assert low <= mid <= high
    # The pattern is exact: the first week's forecast is the pattern itself, within 2%.
    for point in points[:7]:
        day = date.fromisoformat(point["date"])
        truth = (40 if day.weekday() >= 5 else 100) + 10
        assert abs(Decimal(point["amount"]) - truth) <= Decimal("0.02") * truth, point

    window = token_client.get(
        f"/v2/cost_reports/{aws_report.token}/forecasted_costs"
        "?start_date=2026-10-05&end_date=2026-10-06"
    ).json()
    assert [p["date"] for p in window["forecasted_costs"]] == ["2026-10-05", "2026-10-06"]
    s3 = token_client.get(
        f"/v2/cost_reports/{aws_report.token}/forecasted_costs"
        "?provider=aws&service=AmazonS3&limit=3"
    ).json()
    assert [p["service"] for p in s3["forecasted_costs"]] == ["AmazonS3"] * 3
    for point in s3["forecasted_costs"]:
        assert abs(Decimal(point["amount"]) - 10) <= Decimal("0.2")
    assert s3["links"]["next"] is not None


def test_forecasted_costs_errors_name_the_parameter(token_client, aws_report):
    path = f"/v2/cost_reports/{aws_report.token}/forecasted_costs"
    assert errors_of(token_client.get(f"{path}?start_date=tomorrow"), 400)[0].startswith(
        "start_date"
    )
    assert errors_of(token_client.get(f"{path}?provider=oracle"), 400)[0].startswith("provider")
    backwards = token_client.get(f"{path}?start_date=2026-10-05&end_date=2026-10-01")
    assert backwards.status_code == 200 and backwards.json()["forecasted_costs"] == []
    assert errors_of(token_client.get(f"{path}?limit=5000"), 400)[0].startswith("limit")
    assert (
        token_client.get("/v2/cost_reports/rprt_0000000000000000/forecasted_costs").status_code
        == 404
    )


def test_report_forecasts_crud_with_one_default_per_report(token_client, aws_report):
    first = post(
        token_client,
        "/v2/report_forecasts",
        cost_report_token=aws_report.token,
        title="Baseline growth",
        scenario_model_tokens=["scnr_mdl_1"],
        set_as_default=True,
    )
    assert first.status_code == 201, first.json()
    body = first.json()
    assert set(body) == {
        "token",
        "title",
        "cost_report_token",
        "scenario_model_tokens",
        "business_metric_token",
        "is_default",
        "created_by_token",
        "created_at",
        "updated_at",
    }
    assert re.match(r"^rprt_fcst_[0-9a-f]{16}$", body["token"])
    assert body["is_default"] is True
    second = post(
        token_client,
        "/v2/report_forecasts",
        cost_report_token=aws_report.token,
        title="Migration",
        set_as_default=True,
    ).json()
    listed = token_client.get(f"/v2/report_forecasts?cost_report_token={aws_report.token}").json()
    assert [(f["token"], f["is_default"]) for f in listed["report_forecasts"]] == [
        (body["token"], False),
        (second["token"], True),
    ]
    updated = put(token_client, f"/v2/report_forecasts/{body['token']}", title="Growth")
    assert updated.json()["title"] == "Growth"
    assert errors_of(token_client.get("/v2/report_forecasts"), 400)[0].startswith(
        "cost_report_token"
    )
    assert errors_of(
        post(token_client, "/v2/report_forecasts", cost_report_token=aws_report.token), 400
    )[0].startswith("title")
    # The document's types, strictly: a boolean is true/false, a token a string.
    for bad in ({"set_as_default": 0}, {"scenario_model_tokens": [0]}):
        field = next(iter(bad))
        refused = put(token_client, f"/v2/report_forecasts/{body['token']}", **bad)
        assert errors_of(refused, 400)[0].startswith(field), refused.json()
    assert token_client.delete(f"/v2/report_forecasts/{body['token']}").status_code == 204
    assert ReportForecast.objects.count() == 1


def test_the_budget_list_reads_a_bounded_number_of_rows(token_client, aws_report):
    def create(count):
        for n in range(count):
            post(
                token_client,
                "/v2/budgets",
                name=f"Budget {n}",
                cost_report_token=aws_report.token,
                periods=PERIODS,
            )

    def queries_of_list(expected: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(token_client.get("/v2/budgets").json()["budgets"]) == expected
        return len(captured.captured_queries)

    create(2)
    two = queries_of_list(2)
    create(8)
    # One read per budget remains: the cost store's manifest of the files its costs are in
    # (each budget's figures are a cost query of their own).
    assert queries_of_list(10) <= two + 8


@pytest.mark.parametrize(
    "path",
    [
        "/v2/budgets",
        "/v2/budget_alerts",
        "/v2/report_forecasts",
        "/v2/cost_reports/{report}/forecasted_costs",
    ],
)
def test_bad_paging_is_refused_first_on_every_list(token_client, aws_report, path):
    for name in ("page", "limit"):
        url = path.format(report=aws_report.token) + f"?{name}=99999999999999999999"
        assert errors_of(token_client.get(url), 400)[0].startswith(name)
