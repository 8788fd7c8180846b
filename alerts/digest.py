"""The weekly digest: one email per member of an organization, Monday morning (beat).

Members can turn it off for themselves on the alert settings page (``DigestPreference``). It
covers the last full week (Monday to Sunday): the organization's spend against the week
before, per billing currency; the week's anomalies, largest impact first; the alerts that fired;
deliveries that failed; and how many anomalies are still open. A week with no cost and nothing
to report sends nothing. Its event key is ``digest:<user>:<Monday>``, so a re-run of the task
sends no second digest for the same week.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Func

from costs.columnar.query import ROLLUP, select
from costs.columnar.sql import Params
from organizations.models import Organization

from . import delivery
from .models import (
    AlertEvent,
    Anomaly,
    AnomalyStatus,
    Delivery,
    DeliveryStatus,
    DigestPreference,
)

User = get_user_model()
ZERO = Decimal(0)
TOP_ANOMALIES = 10


@dataclass
class Digest:
    start: datetime.date
    end: datetime.date
    spend: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    events: list[AlertEvent] = field(default_factory=list)
    failed_deliveries: int = 0
    open_anomalies: int = 0

    @property
    def empty(self) -> bool:
        spent = any(current or previous for current, previous in self.spend.values())
        return not (spent or self.anomalies or self.events or self.failed_deliveries)


def last_full_week(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today - datetime.timedelta(days=today.weekday() + 1)
    return end - datetime.timedelta(days=6), end


def weekly_spend(organization, start, end) -> dict[str, tuple[Decimal, Decimal]]:
    """Effective cost per billing currency: this week and the week before."""
    params = Params()
    before = start - datetime.timedelta(days=7)
    sql = (
        "SELECT billing_currency AS currency, "
        f"sumIf(effective_cost, charge_period_start >= {params.day(start)}) AS current, "
        f"sumIf(effective_cost, charge_period_start < {params.day(start)}) AS previous "
        f"FROM {ROLLUP} WHERE charge_period_start >= {params.day(before)} "
        f"AND charge_period_start <= {params.day(end)} GROUP BY billing_currency"
    )
    rows = select(organization.pk, sql, params.values).to_pylist()
    return {
        row["currency"] or "USD": (row["current"] or ZERO, row["previous"] or ZERO) for row in rows
    }


class Abs(Func):
    function = "ABS"


def digest_for(organization: Organization, today: datetime.date) -> Digest:
    start, end = last_full_week(today)
    digest = Digest(start, end, spend=weekly_spend(organization, start, end))
    week_anomalies = Anomaly.objects.filter(
        organization=organization, day__gte=start, day__lte=end
    ).select_related("cost_report")
    digest.anomalies = list(
        week_anomalies.annotate(size=Abs(F("amount") - F("expected_amount"))).order_by("-size")[
            :TOP_ANOMALIES
        ]
    )
    digest.events = list(
        AlertEvent.objects.filter(
            organization=organization, period_start__gte=start, period_start__lte=end
        )
        .select_related("cost_alert", "watch")
        .order_by("period_start")
    )
    digest.failed_deliveries = Delivery.objects.filter(
        organization=organization,
        status=DeliveryStatus.FAILED,
        created_at__date__gte=start,
        created_at__date__lte=end + datetime.timedelta(days=1),
    ).count()
    digest.open_anomalies = Anomaly.objects.filter(
        organization=organization, status=AnomalyStatus.ACTIVE
    ).count()
    return digest


def digest_text(organization: Organization, digest: Digest) -> str:
    base = getattr(settings, "ALERTS_BASE_URL", "http://localhost:8000").rstrip("/")
    lines = [f"{organization.name}, week of {digest.start:%d %b} to {digest.end:%d %b %Y}", ""]
    for currency, (current, previous) in sorted(digest.spend.items()):
        change = f" ({(current - previous) / previous * 100:+.1f}%)" if previous else ""
        lines.append(
            f"Spend: {currency} {current:,.2f} against {currency} {previous:,.2f} "
            f"the week before{change}."
        )
    lines.append("")
    if digest.anomalies:
        lines.append(f"Anomalies this week ({len(digest.anomalies)} largest):")
        for anomaly in digest.anomalies:
            impact = anomaly.amount - anomaly.expected_amount
            lines.append(
                f"- {anomaly.day:%a %d %b} {anomaly.label}: {anomaly.currency} "
                f"{anomaly.amount:,.2f} ({impact:+,.2f} against expected), {anomaly.status}"
            )
    else:
        lines.append("No anomalies this week.")
    if digest.events:
        lines += ["", "Alerts that fired:"]
        lines += [f"- {event.description}" for event in digest.events]
    if digest.failed_deliveries:
        lines += [
            "",
            f"{digest.failed_deliveries} notifications could not be delivered: "
            f"{base}/alerts/deliveries/?status=failed",
        ]
    lines += ["", f"Open anomalies: {digest.open_anomalies}. Inbox: {base}/alerts/"]
    return "\n".join(lines)


def digest_send(organization: Organization, today: datetime.date) -> list[Delivery]:
    """Send the organization's digest of the last full week to each member with an address."""
    digest = digest_for(organization, today)
    if digest.empty:
        return []
    text = digest_text(organization, digest)
    subject = f"Costline weekly digest: {organization.name}, week of {digest.start:%d %b %Y}"
    payload = {
        "type": "weekly_digest",
        "week_start": digest.start.isoformat(),
        "week_end": digest.end.isoformat(),
        "anomalies": [anomaly.token for anomaly in digest.anomalies],
        "open_anomalies": digest.open_anomalies,
    }
    opted_out = DigestPreference.objects.filter(
        organization=organization, weekly_digest=False
    ).values("user_id")
    members = User.objects.filter(memberships__organization=organization, is_active=True).exclude(
        pk__in=opted_out
    )
    sent = []
    for member in members.exclude(email="").order_by("pk"):
        sent += delivery.deliver(
            organization,
            event_key=f"digest:{member.pk}:{digest.start.isoformat()}",
            subject=subject,
            text=text,
            payload=payload,
            emails=[member.email],
            channels=[],
        )
    return sent


def digest_subscribed(user, organization) -> bool:
    preference = DigestPreference.objects.filter(user=user, organization=organization).first()
    return preference is None or preference.weekly_digest


def digest_subscribe(user, organization, subscribed: bool) -> DigestPreference:
    """Turn a member's weekly digest of the organization on or off."""
    preference, _ = DigestPreference.objects.update_or_create(
        user=user, organization=organization, defaults={"weekly_digest": subscribed}
    )
    return preference


def digests_send(today: datetime.date | None = None) -> int:
    """Every organization's digest (the beat task); how many deliveries were recorded."""
    today = today or datetime.date.today()
    return sum(len(digest_send(organization, today)) for organization in Organization.objects.all())
