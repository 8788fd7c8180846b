"""The alerts admin: every model's list and page open; triage writes through the service;
replay re-sends a delivery."""

import datetime

import pytest
from django.test import Client

from alerts import anomalies, services, watches
from alerts.delivery import deliver
from alerts.digest import digest_subscribe
from alerts.models import (
    AlertEvent,
    Anomaly,
    Channel,
    ChannelKind,
    CostAlert,
    Delivery,
    SeriesTuning,
)

from .data import SPIKE_DAY, all_costs_report, write_costs


@pytest.fixture
def staff(user, settings):
    settings.AXES_ENABLED = False
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_every_model_lists_and_opens(
    staff, organization, user, webhook_receiver, django_capture_on_commit_callbacks
):
    write_costs(organization)
    report = all_costs_report(organization)
    receiver = webhook_receiver()
    channel = Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    notification = services.anomaly_notification_create(
        organization, cost_report=report, user_ids=[user.pk]
    )
    alert = services.cost_alert_create(
        organization,
        workspace=organization.workspaces.first(),
        title="Daily",
        interval="day",
        threshold=1,
        unit_type="currency",
        reports=[report],
    )
    watch = watches.watch_create(
        organization,
        title="Cost",
        subject="segment_cost",
        condition="anomaly",
        segment=_segment(organization),
    )
    with django_capture_on_commit_callbacks(execute=True):
        anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1))
        sent = deliver(organization, event_key="k", subject="s", text="t", payload={})
    from alerts.cost_alerts import cost_alerts_evaluate

    cost_alerts_evaluate(organization, SPIKE_DAY)
    anomaly = Anomaly.objects.first()
    anomalies.anomaly_update(anomaly, expected=True)
    for model, obj in (
        ("channel", channel),
        ("delivery", sent[0]),
        ("anomaly", anomaly),
        ("seriestuning", SeriesTuning.objects.first()),
        ("anomalynotification", notification),
        ("costalert", alert),
        ("watch", watch),
        ("alertevent", AlertEvent.objects.first()),
        ("digestpreference", digest_subscribe(user, organization, False)),
    ):
        assert staff.get(f"/admin/alerts/{model}/").status_code == 200, model
        assert staff.get(f"/admin/alerts/{model}/{obj.pk}/change/").status_code == 200, model
    assert CostAlert.objects.count() == 1


def _segment(organization):
    from tests.segments.conftest import vql_segment

    return vql_segment(organization, "EC2", "costs.provider = 'aws'")


def test_admin_triage_goes_through_the_service(staff, organization):
    write_costs(organization)
    all_costs_report(organization)
    anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1), notify=False)
    anomaly = Anomaly.objects.first()
    response = staff.post(
        f"/admin/alerts/anomaly/{anomaly.pk}/change/",
        {"status": "archived", "feedback": "Known", "marked_expected": "on"},
    )
    assert response.status_code == 302
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.feedback, anomaly.marked_expected) == (
        "archived",
        "Known",
        True,
    )
    assert SeriesTuning.objects.get(series_key=anomaly.series_key).expected_marks == 1


def test_admin_replay_action(
    staff, organization, webhook_receiver, django_capture_on_commit_callbacks
):
    receiver = webhook_receiver()
    Channel.objects.create(
        organization=organization, name="ops", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        [sent] = deliver(organization, event_key="k", subject="s", text="t", payload={})
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            "/admin/alerts/delivery/",
            {"action": "replay", "_selected_action": [sent.pk]},
        )
    assert len(receiver.accepted()) == 2
    assert Delivery.objects.get().attempt_log.count() == 2
