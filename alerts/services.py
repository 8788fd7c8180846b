"""Services of the alerts app: running every check of an organization, and scheduling it.

The checks (anomaly detection, cost alerts, Costline alerts) run after each import (the
``costs.signals.focus_import_completed`` receiver) and daily (beat); each is idempotent, so a
run twice records and sends nothing twice.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.background import task
from core.errors import NotFoundError, ServiceError
from costs.columnar.models import ColumnarPartition
from organizations.models import Organization

from . import delivery
from .anomalies import anomalies_detect, last_data_day
from .cost_alerts import cost_alerts_evaluate
from .models import (
    AnomalyNotification,
    Channel,
    ChannelKind,
    CostAlert,
    Interval,
    UnitType,
)
from .watches import watches_evaluate

User = get_user_model()

CHECK_TASK = "alerts.run_checks"


def checks_run(
    organization: Organization, *, judge_from: datetime.date | None = None
) -> dict[str, int]:
    """Every alert check of the organization; what each found."""
    end = last_data_day(organization)
    found = {"anomalies": 0, "cost_alert_events": 0}
    if end is not None:
        found["anomalies"] = len(anomalies_detect(organization, judge_from=judge_from, end=end))
        found["cost_alert_events"] = len(cost_alerts_evaluate(organization, end))
    found["costline_alert_events"] = len(watches_evaluate(organization))
    return found


def checks_enqueue(organization_id, judge_from: datetime.date | None = None) -> None:
    """Run the checks in the background once the caller's transaction commits; after an import
    they wait ``ALERTS_CHECK_DELAY_SECONDS`` so the segment refresh it started lands first."""
    countdown = getattr(settings, "ALERTS_CHECK_DELAY_SECONDS", 120)
    arguments = (str(organization_id), judge_from.isoformat() if judge_from else None)
    transaction.on_commit(
        lambda: task(CHECK_TASK).apply_async(arguments, countdown=countdown or None)
    )


def checks_after_import(organization_id, months: list[datetime.date]) -> None:
    """An import changed these months: judge their days (the detector caps how far back)."""
    checks_enqueue(organization_id, min(months) if months else None)


def organizations_with_costs():
    ids = ColumnarPartition.objects.filter(active=True).values("organization_id")
    return Organization.objects.filter(pk__in=ids)


def checks_enqueue_all() -> int:
    """The daily run: one task per organization that has cost data."""
    organizations = list(organizations_with_costs().values_list("pk", flat=True))
    for organization_id in organizations:
        task(CHECK_TASK).apply_async((str(organization_id), None))
    return len(organizations)


# --------------------------------------------------------------------------- channels


def channels_by_name(organization, names, field: str, kinds=None) -> list[Channel]:
    """The organization's channels with these names (each must exist), in the order given."""
    names = list(dict.fromkeys(names or []))
    found = Channel.objects.filter(organization=organization, name__in=names)
    if kinds is not None:
        found = found.filter(kind__in=kinds)
    by_name = {channel.name: channel for channel in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise NotFoundError(
            f'No channel named "{missing[0]}": add it under Alerts → Settings first.',
            field=field,
        )
    return [by_name[name] for name in names]


def channel_create(
    organization, *, name: str, kind: str, target: str, enabled: bool = True
) -> Channel:
    channel = Channel(
        organization=organization, name=name.strip(), kind=kind, target=target.strip()
    )
    channel.enabled = enabled
    channel_validate(channel)
    channel.save()
    return channel


def channel_update(channel: Channel, **changes) -> Channel:
    for name, value in changes.items():
        setattr(channel, name, value.strip() if isinstance(value, str) else value)
    channel_validate(channel)
    channel.save()
    return channel


def channel_validate(channel: Channel) -> None:
    if not channel.name or len(channel.name) > 200:
        raise ServiceError("A name of 1 to 200 characters.", field="name")
    if channel.kind not in ChannelKind.values:
        raise ServiceError(f"One of {', '.join(ChannelKind.values)}.", field="kind")
    if channel.kind == ChannelKind.EMAIL:
        try:
            delivery.normalized_emails([channel.target])
        except ServiceError as error:
            raise ServiceError(error.message, field="target") from None
        channel.target = channel.target.lower()
    elif not channel.target.startswith(("https://", "http://")):
        raise ServiceError("An http(s):// URL.", field="target")
    duplicate = Channel.objects.filter(organization=channel.organization, name=channel.name)
    if duplicate.exclude(pk=channel.pk).exists():
        raise ServiceError("Another channel has this name.", field="name", code="duplicate")


def channel_delete(channel: Channel) -> None:
    channel.delete()


def channel_test(channel: Channel) -> list:
    """Send a test notice to one channel now (its own event: every click is a new one)."""
    now = timezone.now()
    return delivery.deliver(
        channel.organization,
        event_key=f"test:{channel.pk}:{now.timestamp():.6f}",
        subject="Costline test notice",
        text=f"This is a test of the channel “{channel.name}”. Alerts will arrive like this.",
        payload={"type": "test", "channel": channel.name, "sent_at": now.isoformat()},
        channels=[channel],
    )


# --------------------------------------------------------------------------- notifications


def organization_users(organization, user_ids) -> list:
    """Members of the organization with these ids (each must be one)."""
    ids = list(dict.fromkeys(user_ids or []))
    members = {
        user.pk: user
        for user in User.objects.filter(pk__in=ids, memberships__organization=organization)
    }
    missing = [user_id for user_id in ids if user_id not in members]
    if missing:
        raise NotFoundError("Not a member of this organization.", field="user_tokens")
    return [members[user_id] for user_id in ids]


def threshold_checked(threshold) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ServiceError("A whole amount of 0 or more.", field="threshold")
    return threshold


def anomaly_notification_create(
    organization,
    *,
    cost_report,
    threshold: int = 0,
    user_ids=(),
    recipient_channels=(),
) -> AnomalyNotification:
    threshold = threshold_checked(threshold)
    users = organization_users(organization, user_ids)
    channels = channels_by_name(organization, recipient_channels, "recipient_channels")
    with transaction.atomic():
        notification = AnomalyNotification.objects.create(
            organization=organization,
            cost_report=cost_report,
            threshold=threshold,
            recipient_channels=[channel.name for channel in channels],
        )
        notification.users.set(users)
    return notification


def anomaly_notification_update(
    notification: AnomalyNotification,
    *,
    threshold: int | None = None,
    user_ids=None,
    recipient_channels=None,
) -> AnomalyNotification:
    organization = notification.organization
    users = organization_users(organization, user_ids) if user_ids is not None else None
    if recipient_channels is not None:
        channels = channels_by_name(organization, recipient_channels, "recipient_channels")
        notification.recipient_channels = [channel.name for channel in channels]
    if threshold is not None:
        notification.threshold = threshold_checked(threshold)
    with transaction.atomic():
        notification.save()
        if users is not None:
            notification.users.set(users)
    return notification


def anomaly_notification_delete(notification: AnomalyNotification) -> None:
    notification.delete()


# --------------------------------------------------------------------------- cost alerts

COST_ALERT_FIELDS = {
    "title",
    "interval",
    "threshold",
    "unit_type",
    "minimum_threshold",
    "reports",
    "email_recipients",
    "slack_channels",
    "teams_channels",
}


def cost_alert_apply(alert: CostAlert, changes: dict) -> list | None:
    """Check and set a cost alert's fields; the reports to set (None: unchanged)."""
    unknown = set(changes) - COST_ALERT_FIELDS
    if unknown:
        raise TypeError(f"unknown cost alert fields: {sorted(unknown)}")
    organization = alert.organization
    if "title" in changes:
        title = (changes["title"] or "").strip()
        if not title or len(title) > 255:
            raise ServiceError("A title of 1 to 255 characters.", field="title")
        alert.title = title
    if "interval" in changes:
        if changes["interval"] not in Interval.values:
            raise ServiceError(f"One of {', '.join(Interval.values)}.", field="interval")
        alert.interval = changes["interval"]
    if "unit_type" in changes:
        if changes["unit_type"] not in UnitType.values:
            raise ServiceError(f"One of {', '.join(UnitType.values)}.", field="unit_type")
        alert.unit_type = changes["unit_type"]
    for name in ("threshold", "minimum_threshold"):
        if name in changes:
            value = changes[name]
            if value is None and name == "minimum_threshold":
                alert.minimum_threshold = None
                continue
            try:
                amount = Decimal(str(value))
            except (InvalidOperation, ValueError):
                raise ServiceError("A number.", field=name) from None
            if not amount.is_finite() or amount < 0:
                raise ServiceError("A number of 0 or more.", field=name)
            setattr(alert, name, amount)
    if "email_recipients" in changes:
        alert.email_recipients = [
            address for address in delivery_emails(changes["email_recipients"], "email_recipients")
        ]
    if "slack_channels" in changes:
        alert.slack_channels = [
            channel.name
            for channel in channels_by_name(
                organization, changes["slack_channels"], "slack_channels", [ChannelKind.SLACK]
            )
        ]
    if "teams_channels" in changes:
        alert.teams_channels = [
            channel.name
            for channel in channels_by_name(
                organization, changes["teams_channels"], "teams_channels"
            )
        ]
    reports = changes.get("reports")
    if reports is not None and not reports:
        raise ServiceError("At least one report.", field="report_tokens")
    if reports is not None and any(r.organization_id != organization.pk for r in reports):
        raise ServiceError("Cost report not found.", field="report_tokens", code="not_found")
    return reports


def delivery_emails(addresses, field: str) -> list[str]:
    try:
        return delivery.normalized_emails(addresses)
    except ServiceError as error:
        raise ServiceError(error.message, field=field) from None


def cost_alert_create(organization, *, workspace, **fields) -> CostAlert:
    for required in ("title", "interval", "threshold", "unit_type", "reports"):
        if required not in fields:
            name = "report_tokens" if required == "reports" else required
            raise ServiceError("Required.", field=name, code="required")
    alert = CostAlert(organization=organization, workspace=workspace)
    reports = cost_alert_apply(alert, fields)
    with transaction.atomic():
        alert.save()
        alert.reports.set(reports)
    return alert


def cost_alert_update(alert: CostAlert, **changes) -> CostAlert:
    reports = cost_alert_apply(alert, changes)
    with transaction.atomic():
        alert.save()
        if reports is not None:
            alert.reports.set(reports)
    return alert


def cost_alert_delete(alert: CostAlert) -> None:
    alert.delete()
