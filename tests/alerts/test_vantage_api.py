"""/v2/anomaly_alerts, /v2/anomaly_notifications, /v2/cost_alerts and their events."""

import datetime
from decimal import Decimal

import pytest

from alerts import anomalies, cost_alerts
from alerts.api.vantage import user_token
from alerts.models import AnomalyNotification, Channel, ChannelKind, CostAlert, Delivery
from alerts.services import anomaly_notification_create

from .data import SPIKE_DAY, all_costs_report, days, ec2_cost, s3_cost, write_costs


@pytest.fixture
def detected(organization):
    write_costs(organization)
    report = all_costs_report(organization)
    found = anomalies.anomalies_detect(
        organization, judge_from=datetime.date(2026, 9, 1), notify=False
    )
    return report, {a.series_key: a for a in found}


def test_anomaly_alerts_list_in_vantage_shape(token_client, detected):
    report, found = detected
    response = token_client.get("/v2/anomaly_alerts")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"links", "anomaly_alerts"}
    assert len(body["anomaly_alerts"]) == 3
    service = next(a for a in body["anomaly_alerts"] if a["service"] == "AmazonEC2")
    assert service == {
        "token": found[f"report:{report.token}|service:aws/AmazonEC2"].token,
        "created_at": service["created_at"],
        "alerted_at": None,
        "category": "Compute",
        "service": "AmazonEC2",
        "provider": "aws",
        "amount": "400.0",
        "previous_amount": str(ec2_cost(SPIKE_DAY - datetime.timedelta(days=1))) + ".0",
        "seven_day_average": service["seven_day_average"],
        "status": "active",
        "feedback": None,
        "resources": [],
        "resource_tokens": [],
        "cost_report_token": report.token,
    }
    week = [SPIKE_DAY - datetime.timedelta(days=n) for n in range(1, 8)]
    assert Decimal(service["seven_day_average"]) == pytest.approx(
        sum(ec2_cost(d) for d in week) / 7, abs=Decimal("0.000001")
    )


def test_anomaly_alerts_filters(token_client, detected):
    report, _ = detected

    def listed_for(query):
        return token_client.get(f"/v2/anomaly_alerts?{query}").json()["anomaly_alerts"]

    assert len(listed_for("service=AmazonEC2")) == 1
    assert len(listed_for("cost_category=Compute")) == 1
    assert listed_for("cost_category=Storage") == []
    assert listed_for("start_date=2026-09-16") == []
    listed = token_client.get(
        f"/v2/anomaly_alerts?start_date=2026-09-15T00:00:00Z&cost_report_token={report.token}"
    )
    assert len(listed.json()["anomaly_alerts"]) == 3
    bad = token_client.get("/v2/anomaly_alerts?start_date=yesterday")
    assert bad.status_code == 400
    assert bad.json()["errors"][0].startswith("start_date:")
    assert token_client.get("/v2/anomaly_alerts?cost_report_token=rprt_nope").status_code == 404


def test_update_status_and_feedback(token_client, detected):
    report, found = detected
    token = found[f"report:{report.token}"].token
    response = token_client.put(
        f"/v2/anomaly_alerts/{token}",
        {"status": "archived", "feedback": "Quarterly load test"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert response.json()["feedback"] == "Quarterly load test"
    assert token_client.get(f"/v2/anomaly_alerts/{token}").json()["status"] == "archived"


def test_update_refuses_an_unknown_status_and_writes_nothing(token_client, detected):
    report, found = detected
    token = found[f"report:{report.token}"].token
    response = token_client.put(
        f"/v2/anomaly_alerts/{token}", {"status": "snoozed", "feedback": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("status:")
    assert token_client.get(f"/v2/anomaly_alerts/{token}").json()["feedback"] is None


def test_expected_through_the_api_tunes_the_series(token_client, detected):
    report, found = detected
    anomaly = found[f"report:{report.token}|service:aws/AmazonEC2"]
    response = token_client.put(
        f"/v2/anomaly_alerts/{anomaly.token}",
        {"status": "archived", "expected": True},
        format="json",
    )
    assert response.status_code == 200
    from alerts.models import SeriesTuning

    assert SeriesTuning.objects.get(series_key=anomaly.series_key).expected_marks == 1


@pytest.mark.parametrize("expected", [0, 1, "true", "yes", None])
def test_expected_takes_only_a_json_boolean(token_client, detected, expected):
    report, found = detected
    anomaly = found[f"report:{report.token}|service:aws/AmazonEC2"]
    response = token_client.put(
        f"/v2/anomaly_alerts/{anomaly.token}",
        {"status": "archived", "expected": expected},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("expected:")
    assert token_client.get(f"/v2/anomaly_alerts/{anomaly.token}").json()["status"] == "active"


def test_a_backwards_window_lists_no_anomaly(token_client, detected):
    response = token_client.get("/v2/anomaly_alerts?start_date=2026-09-30&end_date=2026-09-01")
    assert response.status_code == 200
    assert response.json()["anomaly_alerts"] == []
    # the same days the right way round hold the three anomalies
    listed = token_client.get("/v2/anomaly_alerts?start_date=2026-09-01&end_date=2026-09-30")
    assert len(listed.json()["anomaly_alerts"]) == 3


def test_read_tokens_cannot_update_and_other_organizations_get_404(
    read_client, other_token_client, detected
):
    report, found = detected
    token = found[f"report:{report.token}"].token
    assert read_client.get(f"/v2/anomaly_alerts/{token}").status_code == 200
    assert (
        read_client.put(f"/v2/anomaly_alerts/{token}", {"status": "archived"}, format="json")
    ).status_code == 403
    assert other_token_client.get(f"/v2/anomaly_alerts/{token}").status_code == 404
    assert other_token_client.get("/v2/anomaly_alerts").json()["anomaly_alerts"] == []


def test_anomaly_notifications_crud(token_client, organization, user):
    report = all_costs_report(organization)
    Channel.objects.create(
        organization=organization, name="#finops", kind=ChannelKind.SLACK, target="http://x/"
    )
    created = token_client.post(
        "/v2/anomaly_notifications",
        {
            "cost_report_token": report.token,
            "threshold": 100,
            "user_tokens": [user_token(user.pk)],
            "recipient_channels": ["#finops"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["cost_report_token"] == report.token
    assert body["threshold"] == 100
    assert body["user_tokens"] == [user_token(user.pk)]
    assert body["recipient_channels"] == ["#finops"]
    token = body["token"]
    assert token.startswith("anmly_ntfctn_")

    updated = token_client.put(
        f"/v2/anomaly_notifications/{token}", {"threshold": 5, "user_tokens": []}, format="json"
    )
    assert updated.json()["threshold"] == 5 and updated.json()["user_tokens"] == []
    assert updated.json()["recipient_channels"] == ["#finops"]
    listed = token_client.get("/v2/anomaly_notifications").json()
    assert [n["token"] for n in listed["anomaly_notifications"]] == [token]
    assert token_client.delete(f"/v2/anomaly_notifications/{token}").status_code == 204
    assert token_client.get(f"/v2/anomaly_notifications/{token}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"threshold": -1}, "threshold", 400),
        ({"recipient_channels": ["#nowhere"]}, "recipient_channels", 404),
        ({"user_tokens": [user_token(999999)]}, "user_tokens", 404),
        ({"user_tokens": ["someone"]}, "user_tokens", 404),
        ({"cost_report_token": "rprt_nope"}, "cost_report_token", 404),
    ],
)
def test_anomaly_notification_bad_input_names_the_field(
    token_client, organization, body, field, status
):
    report = all_costs_report(organization)
    response = token_client.post(
        "/v2/anomaly_notifications", {"cost_report_token": report.token, **body}, format="json"
    )
    assert response.status_code == status
    assert response.json()["errors"][0].startswith(f"{field}:")
    assert not AnomalyNotification.objects.exists()


def test_a_notified_anomaly_is_delivered_once_to_every_recipient(
    organization, user, smtp_server, django_capture_on_commit_callbacks
):
    write_costs(organization)
    report = all_costs_report(organization)
    user.email = "alice@example.com"
    user.save()
    anomaly_notification_create(organization, cost_report=report, threshold=50, user_ids=[user.pk])
    anomaly_notification_create(organization, cost_report=report, threshold=0, user_ids=[user.pk])
    with django_capture_on_commit_callbacks(execute=True):
        found = anomalies.anomalies_detect(organization, end=SPIKE_DAY)

    # Three series spiked; alice is named twice but hears of each anomaly once.
    assert len(found) == 3
    assert len(smtp_server.messages) == 3
    subjects = sorted(message["Subject"] for message in smtp_server.messages)
    assert any("AmazonEC2" in subject for subject in subjects)
    assert Delivery.objects.filter(status="sent").count() == 3
    assert all(a.alerted_at is not None for a in anomalies.Anomaly.objects.all())


def test_cost_alerts_crud(token_client, organization):
    report = all_costs_report(organization)
    created = token_client.post(
        "/v2/cost_alerts",
        {
            "title": "EC2 pace",
            "interval": "month",
            "threshold": 10,
            "unit_type": "percentage",
            "minimum_threshold": 50,
            "report_tokens": [report.token],
            "email_recipients": ["ops@example.com"],
            "workspace_token": organization.workspaces.first().token,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("title", "interval", "threshold", "unit_type")} == {
        "title": "EC2 pace",
        "interval": "month",
        "threshold": 10.0,
        "unit_type": "percentage",
    }
    assert body["minimum_threshold"] == 50.0
    assert body["report_tokens"] == [report.token]
    assert body["slack_channels"] == [] and body["teams_channels"] == []
    token = body["token"]
    updated = token_client.put(
        f"/v2/cost_alerts/{token}", {"threshold": 25, "interval": "week"}, format="json"
    )
    assert updated.json()["threshold"] == 25.0 and updated.json()["interval"] == "week"
    assert [a["token"] for a in token_client.get("/v2/cost_alerts").json()["cost_alerts"]] == [
        token
    ]
    assert token_client.get(f"/v2/cost_alerts/{token}/events").json()["cost_alert_events"] == []
    assert token_client.delete(f"/v2/cost_alerts/{token}").status_code == 204
    assert token_client.get(f"/v2/cost_alerts/{token}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"interval": "year"}, "interval"),
        ({"unit_type": "ratio"}, "unit_type"),
        ({"report_tokens": []}, "report_tokens"),
        ({"email_recipients": ["not-an-address"]}, "email_recipients"),
        ({"email_recipients": ["0"]}, "email_recipients"),
        ({"threshold": "lots"}, "threshold"),
    ],
)
def test_cost_alert_bad_input_is_a_400_naming_the_field(token_client, organization, change, field):
    report = all_costs_report(organization)
    body = {
        "title": "t",
        "interval": "day",
        "threshold": 1,
        "unit_type": "currency",
        "report_tokens": [report.token],
        **change,
    }
    response = token_client.post("/v2/cost_alerts", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith(f"{field}")
    assert not CostAlert.objects.exists()


def test_cost_alert_fires_once_per_period_with_the_figures(
    token_client, organization, smtp_server, django_capture_on_commit_callbacks
):
    write_costs(organization)
    report = all_costs_report(organization)
    alert = token_client.post(
        "/v2/cost_alerts",
        {
            "title": "Daily jump",
            "interval": "day",
            "threshold": 200,
            "unit_type": "currency",
            "report_tokens": [report.token],
            "email_recipients": ["ops@example.com"],
        },
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        fired = cost_alerts.cost_alerts_evaluate(organization, SPIKE_DAY)
        again = cost_alerts.cost_alerts_evaluate(organization, SPIKE_DAY)
        quiet = cost_alerts.cost_alerts_evaluate(organization, SPIKE_DAY + datetime.timedelta(1))

    assert len(fired) == 1 and again == [] and quiet == []
    assert len(smtp_server.messages) == 1
    events = token_client.get(f"/v2/cost_alerts/{alert['token']}/events").json()
    [event] = events["cost_alert_events"]
    day_before = SPIKE_DAY - datetime.timedelta(days=1)
    current = ec2_cost(SPIKE_DAY) + s3_cost(SPIKE_DAY)
    previous = ec2_cost(day_before) + s3_cost(day_before)
    assert Decimal(event["metadata"]["current_amount"]) == current
    assert Decimal(event["metadata"]["previous_amount"]) == previous
    assert event["report_token"] == report.token and event["alert_token"] == alert["token"]
    one = token_client.get(f"/v2/cost_alerts/{alert['token']}/events/{event['token']}")
    assert one.json() == event
    assert (
        token_client.get(f"/v2/cost_alerts/{alert['token']}/events/cst_alrt_evnt_x").status_code
        == 404
    )


def test_month_pace_compares_the_same_days_of_the_previous_month(organization):
    write_costs(organization)
    report = all_costs_report(organization)
    (start, end), (previous_start, previous_end) = cost_alerts.comparison_windows(
        datetime.date(2026, 9, 10), "month"
    )
    assert (start, previous_start, previous_end) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 8, 1),
        datetime.date(2026, 8, 10),
    )
    total, currency = cost_alerts.report_total(organization, report, previous_start, previous_end)
    expected = sum(ec2_cost(d) + s3_cost(d) for d in days(previous_start, previous_end))
    assert (total, currency) == (expected, "USD")
    assert cost_alerts.comparison_windows(datetime.date(2026, 3, 31), "month")[1] == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )


def test_lists_take_the_same_queries_for_one_item_or_many(token_client, organization, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.models import Anomaly

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert token_client.get(path).status_code == 200
        return len(captured)

    def add(count):
        for _ in range(count):
            report = all_costs_report(organization)
            anomaly_notification_create(organization, cost_report=report, user_ids=[user.pk])
            from alerts.services import cost_alert_create

            cost_alert_create(
                organization,
                workspace=organization.workspaces.first(),
                title="t",
                interval="day",
                threshold=1,
                unit_type="currency",
                reports=[report],
            )
            Anomaly.objects.create(
                organization=organization,
                series_key=f"report:{report.token}",
                series_kind="report",
                label=report.title,
                cost_report=report,
                day=SPIKE_DAY,
                amount=10,
                expected_amount=1,
                previous_amount=1,
                seven_day_average=1,
                score=9,
                direction="spike",
            )

    paths = ["/v2/anomaly_alerts", "/v2/anomaly_notifications", "/v2/cost_alerts"]
    add(1)
    queries(paths[0])  # the token's last_used_at is written once, on the first request
    few = [queries(path) for path in paths]
    add(6)
    assert [queries(path) for path in paths] == few


def test_events_answer_only_reads(token_client, organization):
    report = all_costs_report(organization)
    alert = token_client.post(
        "/v2/cost_alerts",
        {
            "title": "t",
            "interval": "day",
            "threshold": 1,
            "unit_type": "currency",
            "report_tokens": [report.token],
        },
        format="json",
    ).json()
    events = f"/v2/cost_alerts/{alert['token']}/events"
    assert token_client.put(events, {"title": "x"}, format="json").status_code == 405
    assert token_client.delete(events).status_code == 405
    assert token_client.get(f"/v2/cost_alerts/{alert['token']}").json()["title"] == "t"
