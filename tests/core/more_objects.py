"""One object of each kind the business, virtual tags, alerts and budgets surfaces name, for the
tests that walk every route (bad input, schema conformance, fuzzing, tenant isolation).

``objects(...)`` creates them through the apps' services (a model write only where no service
makes the object: anomalies are found by detection, events by checks) and returns their
references by kind; ``PATH_KINDS`` names the kind of each path parameter.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from alerts import delivery as alert_delivery
from alerts import services as alert_services
from alerts import watches
from alerts.models import AlertEvent, Anomaly, Direction, SeriesKind
from budgets import services as budget_services
from budgets.models import ReportForecast
from business.services import business_metric_create
from virtual_tags import services as vtag_services

# Path parameter → kind of object (``token`` and ``id`` depend on the path: ``token_kind``).
PATH_KINDS = {
    "business_metric_token": "business_metric_token",
    "virtual_tag_config_token": "virtual_tag_token",
    "virtual_tag_config_value_token": "virtual_tag_value_token",
    "request_id": "virtual_tag_request",
    "anomaly_alert_token": "anomaly_token",
    "anomaly_notification_token": "anomaly_notification_token",
    "cost_alert_token": "cost_alert_token",
    "event_token": "cost_alert_event_token",
    "budget_token": "budget_token",
    "budget_alert_token": "budget_alert_token",
    "report_forecast_token": "report_forecast_token",
}


def token_kind(path: str) -> str | None:
    """The kind a ``token`` (or ``pk``/``id``) path parameter means on ``path``."""
    for prefix, kind in (
        ("/v2/virtual_tag_configs/", "virtual_tag_token"),
        ("/api/v1/alerts/", "watch_token"),
        ("/api/v1/alert-deliveries/", "delivery_token"),
        ("/api/v1/alert-channels/", "channel"),
    ):
        if path.startswith(prefix) or path.startswith(prefix.lstrip("/")):
            return kind
    return None


def objects(organization, *, label: str, workspace, cost_report, segment, user=None) -> dict:
    """{kind: reference} of one of each, owned by ``organization``."""
    metric = business_metric_create(organization, title=f"{label} active users")
    config = vtag_services.config_create(
        organization,
        key=f"{label} team",
        overridable=False,
        backfill_until="2026-01-01",
        values=[{"filter": "", "name": f"{label}-everyone"}],
    )
    request = vtag_services.config_update_async(config, overridable=False)
    channel = alert_services.channel_create(
        organization,
        name=f"{label} ops",
        kind="webhook",
        target=f"https://hooks.example.com/{label.lower()}",
    )
    notification = alert_services.anomaly_notification_create(
        organization, cost_report=cost_report, threshold=10
    )
    cost_alert = alert_services.cost_alert_create(
        organization,
        workspace=workspace,
        title=f"{label} cost alert",
        interval="month",
        threshold=Decimal("100"),
        unit_type="currency",
        reports=[cost_report],
    )
    today = timezone.now().date()
    event = AlertEvent.objects.create(
        organization=organization,
        cost_alert=cost_alert,
        report_token=cost_report.token,
        period_start=today.replace(day=1),
        alert_type="cost_alert",
        description=f"{label}: above 100.00",
        triggered_at=timezone.now(),
    )
    anomaly = Anomaly.objects.create(
        organization=organization,
        series_key=f"report:{cost_report.token}",
        series_kind=SeriesKind.REPORT,
        label=f"{label} report",
        cost_report=cost_report,
        day=today - datetime.timedelta(days=2),
        amount=Decimal("500"),
        expected_amount=Decimal("100"),
        previous_amount=Decimal("100"),
        seven_day_average=Decimal("100"),
        score=9.5,
        direction=Direction.SPIKE,
    )
    watch = watches.watch_create(
        organization,
        title=f"{label} segment watch",
        subject="segment_cost",
        segment=segment,
        condition="above",
        threshold=Decimal("50"),
    )
    (delivery,) = alert_delivery.deliver(
        organization,
        event_key=f"{label}-test",
        subject=f"{label} test",
        text="A test.",
        payload={},
        emails=[f"{label.lower()}@example.com"],
        channels=[],
    )
    budget = budget_services.budget_create(
        organization,
        workspace=workspace,
        name=f"{label} budget",
        cost_report=cost_report,
        periods=[
            budget_services.PeriodInput(
                start=today.replace(day=1), end=None, amount=Decimal("1000")
            )
        ],
    )
    budget_alert = budget_services.budget_alert_create(
        organization, budgets=[budget], threshold=80, recipients=[]
    )
    forecast = ReportForecast.objects.create(
        organization=organization, cost_report=cost_report, title=f"{label} forecast"
    )
    return {
        "business_metric_token": metric.token,
        "virtual_tag_token": config.token,
        "virtual_tag_value_token": config.values[0]["token"],
        "virtual_tag_request": str(request.request_id),
        "channel": str(channel.pk),
        "anomaly_notification_token": notification.token,
        "cost_alert_token": cost_alert.token,
        "cost_alert_event_token": event.token,
        "anomaly_token": anomaly.token,
        "watch_token": watch.token,
        "delivery_token": delivery.token,
        "budget_token": budget.token,
        "budget_alert_token": budget_alert.token,
        "report_forecast_token": forecast.token,
    }


# Objects' names and titles that another tenant must never read.
def secrets_of(refs: dict, label: str) -> set[str]:
    return {
        f"{label} active users",
        f"{label} team",
        f"{label} ops",
        f"{label} cost alert",
        f"{label} segment watch",
        f"{label} budget",
        f"{label} forecast",
        # Tokens are unguessable; a channel's number ("1") is not a secret by itself.
        *(value for kind, value in refs.items() if kind != "channel"),
    }
