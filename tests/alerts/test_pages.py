"""The alert pages: inbox (acknowledge, expected, feedback), settings and the delivery log."""

import datetime

import pytest
from django.test import Client

from alerts import anomalies
from alerts.models import (
    Anomaly,
    AnomalyNotification,
    Channel,
    ChannelKind,
    Delivery,
    SeriesTuning,
    Watch,
)
from organizations.models import Role

from ..factories import MembershipFactory, UserFactory
from .data import all_costs_report, write_costs


@pytest.fixture
def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def detected(organization):
    write_costs(organization)
    report = all_costs_report(organization)
    anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1), notify=False)
    return report


def test_inbox_lists_open_anomalies_with_money_and_currency(signed_in, detected):
    page = signed_in.get("/alerts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "AmazonEC2 (aws) in All costs" in text
    assert "$400.00" in text
    assert "Open (3)" in text


def test_acknowledge_and_mark_expected_from_the_inbox(signed_in, detected):
    first, second = Anomaly.objects.order_by("series_key")[:2]
    response = signed_in.post(f"/alerts/anomalies/{first.token}/action/", {"action": "acknowledge"})
    assert response.status_code == 302
    signed_in.post(f"/alerts/anomalies/{second.token}/action/", {"action": "expected"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "acknowledged"
    assert second.status == "archived" and second.marked_expected
    assert SeriesTuning.objects.filter(series_key=second.series_key).exists()
    text = signed_in.get("/alerts/").content.decode()
    assert "Open (1)" in text and "Acknowledged (1)" in text and "Archived (1)" in text


def test_feedback_form_on_the_anomaly_page(signed_in, detected):
    anomaly = Anomaly.objects.first()
    page = signed_in.get(f"/alerts/anomalies/{anomaly.token}/")
    assert page.status_code == 200
    signed_in.post(
        f"/alerts/anomalies/{anomaly.token}/action/",
        {"action": "feedback", "status": "archived", "feedback": "Migration week"},
    )
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.feedback) == ("archived", "Migration week")
    assert "Migration week" in signed_in.get(f"/alerts/anomalies/{anomaly.token}/").content.decode()


def test_viewers_read_but_cannot_triage(organization, detected):
    viewer = UserFactory(username="victor")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    anomaly = Anomaly.objects.first()
    assert client.get("/alerts/").status_code == 200
    assert 'value="acknowledge"' not in client.get("/alerts/").content.decode()
    denied = client.post(f"/alerts/anomalies/{anomaly.token}/action/", {"action": "acknowledge"})
    assert denied.status_code == 403
    anomaly.refresh_from_db()
    assert anomaly.status == "active"


def test_other_organizations_anomalies_are_404(other_organization, detected):
    stranger = UserFactory(username="mallory")
    MembershipFactory(user=stranger, organization=other_organization, role=Role.ADMIN)
    client = Client()
    client.force_login(stranger)
    anomaly = Anomaly.objects.first()
    assert client.get(f"/alerts/anomalies/{anomaly.token}/").status_code == 404
    assert (
        client.post(
            f"/alerts/anomalies/{anomaly.token}/action/", {"action": "acknowledge"}
        ).status_code
        == 404
    )


def test_settings_add_channel_notification_and_costline_alert(signed_in, organization, user):
    report = all_costs_report(organization)
    assert signed_in.get("/alerts/settings/").status_code == 200
    signed_in.post(
        "/alerts/settings/channels/",
        {"name": "#finops", "kind": "slack", "target": "https://hooks.example.com/T1"},
    )
    channel = Channel.objects.get(name="#finops")
    signed_in.post(
        "/alerts/settings/notifications/",
        {"cost_report": report.token, "threshold": 40, "users": [user.pk], "channels": ["#finops"]},
    )
    notification = AnomalyNotification.objects.get()
    assert notification.threshold == 40
    assert notification.recipient_channels == ["#finops"]
    signed_in.post(
        "/alerts/settings/watches/",
        {
            "title": "EC2 daily ceiling",
            "subject": "metric_usage",
            "condition": "above",
            "threshold": "",
            "emails": "ops@example.com",
        },
    )
    assert not Watch.objects.exists()  # no metric, no threshold: refused, nothing written
    page = signed_in.get("/alerts/settings/").content.decode()
    assert "#finops" in page and "Slack incoming webhook" in page
    signed_in.post(f"/alerts/settings/channels/{channel.pk}/", {"action": "toggle"})
    channel.refresh_from_db()
    assert not channel.enabled


def test_bad_channel_is_refused_with_the_reason(signed_in):
    response = signed_in.post(
        "/alerts/settings/channels/",
        {"name": "hook", "kind": "webhook", "target": "ftp://nope"},
        follow=True,
    )
    assert "An http(s):// URL." in response.content.decode()
    assert not Channel.objects.exists()


def test_delivery_log_shows_attempts_and_replays(
    signed_in, organization, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    from alerts.delivery import deliver

    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 2
    receiver = webhook_receiver(failures=2)
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        [sent] = deliver(organization, event_key="e1", subject="Spike", text="t", payload={})
    page = signed_in.get("/alerts/deliveries/").content.decode()
    assert "Failed" in page and "HTTP 503" in page
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(f"/alerts/deliveries/{sent.token}/replay/")
    sent.refresh_from_db()
    assert sent.status == "sent"
    page = signed_in.get("/alerts/deliveries/?status=sent").content.decode()
    assert "#3 ok" in page and "Spike" in page
    assert Delivery.objects.count() == 1


def test_the_overview_shows_open_anomalies(signed_in, detected):
    text = signed_in.get("/").content.decode()
    assert "Open anomalies (3)" in text
    assert "AmazonEC2 (aws) in All costs" in text
    assert "$400.00" in text


def test_settings_add_a_costline_alert_and_check_it(signed_in, organization):
    from tests.segments.conftest import vql_segment

    write_costs(organization)
    segment = vql_segment(organization, "EC2", "costs.provider = 'aws'")
    signed_in.post(
        "/alerts/settings/channels/",
        {"name": "ops mail", "kind": "email", "target": "Ops@Example.com"},
    )
    response = signed_in.post(
        "/alerts/settings/watches/",
        {
            "title": "AWS spend ceiling",
            "subject": "segment_cost",
            "segment": segment.token,
            "condition": "above",
            "threshold": "300",
            "emails": "finops@example.com; cto@example.com",
            "channels": ["ops mail"],
        },
        follow=True,
    )
    assert "Costline alert “AWS spend ceiling” added." in response.content.decode()
    watch = Watch.objects.get()
    assert watch.email_recipients == ["finops@example.com", "cto@example.com"]
    assert [c.target for c in watch.channels.all()] == ["ops@example.com"]
    checked = signed_in.post(
        f"/alerts/settings/watches/{watch.token}/", {"action": "check"}, follow=True
    ).content.decode()
    # The latest day of data (22 September) costs 100 + 20: under the ceiling.
    assert "nothing to report" in checked
    signed_in.post(f"/alerts/settings/watches/{watch.token}/", {"action": "toggle"})
    watch.refresh_from_db()
    assert not watch.enabled


def test_triage_never_redirects_off_site(signed_in, detected):
    anomaly = Anomaly.objects.first()
    response = signed_in.post(
        f"/alerts/anomalies/{anomaly.token}/action/",
        {"action": "acknowledge", "next": "https://evil.example.com/"},
    )
    assert response.status_code == 302 and response["Location"] == "/alerts/"


def test_the_anomaly_page_charts_its_series_against_the_baseline(signed_in, detected):
    from alerts.selectors import anomaly_history

    from .data import END, SPIKE_DAY, ec2_cost, same_weekday_median

    anomaly = Anomaly.objects.get(series_key=f"report:{detected.token}|service:aws/AmazonEC2")
    history = anomaly_history(anomaly)
    spike = history["labels"].index(SPIKE_DAY.strftime("%d %b"))
    cost, expected = history["datasets"]
    assert cost["data"][spike] == 400.0
    assert expected["data"][spike] == float(same_weekday_median(ec2_cost, SPIKE_DAY))
    assert len(history["labels"]) == 35 + 1 + 7  # 22 September, the last day of data
    anomaly.day = END - datetime.timedelta(days=2)
    assert anomaly_history(anomaly)["labels"][-1] == END.strftime("%d %b")
    page = signed_in.get(f"/alerts/anomalies/{anomaly.token}/").content.decode()
    assert 'id="anomaly-chart"' in page and "anomaly-chart-data" in page


def test_send_a_test_to_a_channel(
    signed_in, organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver()
    channel = Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.SLACK, target=receiver.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/alerts/settings/channels/{channel.pk}/", {"action": "test"})
    assert response["Location"] == "/alerts/deliveries/"
    assert receiver.accepted()[0]["text"].startswith("Costline test notice")
    assert "Costline test notice" in signed_in.get("/alerts/deliveries/").content.decode()
