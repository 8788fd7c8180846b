"""What the overview page shows: reads from the apps' selectors, arranged for one glance."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from alerts import selectors as alert_selectors
from budgets import selectors as budget_selectors
from costs import selectors as cost_selectors
from costs.currencies import currencies, currency_label
from costs.models import ImportJob
from segments import selectors as segment_selectors
from segments.models import Granularity, Line, SegmentMetric, Status

# A top-level segment still computing after this long is worth a look.
STUCK_AFTER = datetime.timedelta(minutes=30)
# Failed imports of the last days are listed (older ones have usually been dealt with).
RECENT_FAILURES = datetime.timedelta(days=7)


@dataclass
class MonthToDate:
    currency: str
    current: object
    previous: object
    change_percent: float | None


def same_days_last_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The 1st of last month through the same day number (or its last day, if shorter)."""
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    last_day = today.replace(day=1) - datetime.timedelta(days=1)
    return first, min(first.replace(day=min(today.day, last_day.day)), last_day)


def month_to_date(organization, today: datetime.date) -> list[MonthToDate]:
    """Effective cost from the 1st to today, and over the same days of last month, per
    billing currency (sums in different currencies are never added)."""
    costs = cost_selectors.CostFilter(organization.pk)
    previous_start, previous_end = same_days_last_month(today)
    figures = {}
    for window, (start, end) in {
        "current": (today.replace(day=1), today),
        "previous": (previous_start, previous_end),
    }.items():
        for currency in currencies(organization):
            series = cost_selectors.cost_series(
                costs.narrowed("billing_currency", currency),
                group_by="provider",
                granularity="month",
                start=start,
                end=end,
            )
            figures.setdefault(currency, {})[window] = series.totals["effective_cost"]
    result = []
    for currency, values in sorted(figures.items()):
        current, previous = values.get("current", 0), values.get("previous", 0)
        change = float((current - previous) / abs(previous) * 100) if previous else None
        result.append(MonthToDate(currency, current, previous, change))
    return result


MOVERS = 5


def _movers(now: dict, before: dict) -> dict:
    """The ``MOVERS`` largest rises and falls between two ``{name: amount}`` maps."""
    changes = []
    for name in {*now, *before}:
        current, previous = now.get(name, Decimal(0)), before.get(name, Decimal(0))
        change = current - previous
        if change:
            percent = float(change / abs(previous) * 100) if previous else None
            changes.append(
                {
                    "name": name,
                    "current": current,
                    "previous": previous,
                    "change": change,
                    "change_percent": percent,
                }
            )
    up = sorted((c for c in changes if c["change"] > 0), key=lambda c: (-c["change"], c["name"]))
    down = sorted((c for c in changes if c["change"] < 0), key=lambda c: (c["change"], c["name"]))
    return {"up": up[:MOVERS], "down": down[:MOVERS]}


def service_movers(organization, today: datetime.date) -> list[dict]:
    """Per currency: the services whose effective cost rose or fell most, month to date
    against the same days of last month."""
    costs = cost_selectors.CostFilter(organization.pk)
    windows = {"now": (today.replace(day=1), today), "before": same_days_last_month(today)}
    result = []
    for currency in currencies(organization):
        sums = {}
        for window, (start, end) in windows.items():
            series = cost_selectors.cost_series(
                costs.narrowed("billing_currency", currency),
                group_by="service",
                granularity="month",
                start=start,
                end=end,
            )
            sums[window] = {row["group"]: row["effective_cost"] for row in series.groups}
        movers = _movers(sums["now"], sums["before"])
        if movers["up"] or movers["down"]:
            result.append({"currency": currency, **movers})
    return result


def segment_movers(organization, today: datetime.date) -> list[dict]:
    """Per currency: the segments whose effective cost (every charge, from their computed
    daily figures) rose or fell most, month to date against the same days of last month."""
    # Every segment for the tree walk; the system-generated one (a provider's whole bill) is
    # not a mover of its own.
    every = {
        segment.pk: segment for segment in segment_selectors.segments_for_organization(organization)
    }
    segments = {pk: segment for pk, segment in every.items() if not segment.is_system_generated}
    previous_start, previous_end = same_days_last_month(today)
    sums: dict[str, dict] = {"now": {}, "before": {}}
    metrics = (
        SegmentMetric.objects.filter(
            segment_id__in=list(segments),
            line=Line.TOTAL,
            granularity=Granularity.DAY,
            period_start__gte=previous_start,
            period_start__lte=today,
        )
        .filter(Q(period_start__lte=previous_end) | Q(period_start__gte=today.replace(day=1)))
        .values("segment_id", "period_start")
        .annotate(amount=Sum("effective_cost"))
    )
    for row in metrics:
        window = "now" if row["period_start"] >= today.replace(day=1) else "before"
        sums[window][row["segment_id"]] = sums[window].get(row["segment_id"], 0) + row["amount"]
    by_currency: dict[str, dict] = {}
    labels = {}
    currency_of: dict = {}
    for pk, segment in segments.items():
        if pk not in sums["now"] and pk not in sums["before"]:
            continue
        provider = segment_selectors.top_level(segment, every).provider or None
        if provider not in currency_of:
            currency_of[provider] = currency_label(organization, provider)
        currency = currency_of[provider]
        label = f"{segment.name} · {segment.pk}"
        labels[label] = segment
        for window in ("now", "before"):
            if pk in sums[window]:
                by_currency.setdefault(currency, {"now": {}, "before": {}})[window][label] = sums[
                    window
                ][pk]
    result = []
    for currency, windows in sorted(by_currency.items()):
        movers = _movers(windows["now"], windows["before"])
        for item in (*movers["up"], *movers["down"]):
            item["segment"] = labels[item["name"]]
            item["name"] = item["segment"].name
        if movers["up"] or movers["down"]:
            result.append({"currency": currency, **movers})
    return result


def months_label(periods: list[str]) -> str:
    """Billing periods (ISO first days) as "Aug 2026 to Nov 2026 (4 months)" or "Nov 2026"."""
    months = [
        datetime.date.fromisoformat(f"{month}-01").strftime("%b %Y")
        for month in sorted({period[:7] for period in periods})
    ]
    if not months:
        return "–"
    if len(months) == 1:
        return months[0]
    return f"{months[0]} to {months[-1]} ({len(months)} months)"


def import_freshness(organization, now: datetime.datetime) -> list[dict]:
    """Each integration with its latest import and its latest successful one."""
    jobs = cost_selectors.import_jobs_for_organization(organization).order_by("-created_at")
    latest: dict = {}
    succeeded: dict = {}
    for job in jobs[:500]:
        latest.setdefault(job.integration_id, job)
        if job.status == ImportJob.Status.SUCCEEDED:
            succeeded.setdefault(job.integration_id, job)
    rows = []
    for integration in cost_selectors.integrations_for_organization(organization).order_by("name"):
        good = succeeded.get(integration.pk)
        rows.append(
            {
                "integration": integration,
                "latest": latest.get(integration.pk),
                "succeeded": good,
                "periods": months_label(good.billing_periods if good else []),
            }
        )
    return rows


def attention(organization, now: datetime.datetime, freshness: list[dict]) -> list[dict]:
    """Things to act on: failed imports, integrations without data, segments not computed."""
    items = []
    for row in freshness:
        latest = row["latest"]
        if latest is None:
            items.append(
                {
                    "kind": "no-data",
                    "text": f"{row['integration'].name} has no imported costs yet.",
                    "url": f"/imports/?integration={row['integration'].pk}",
                    "action": "Import an export",
                }
            )
        elif latest.status == ImportJob.Status.FAILED and now - latest.created_at < RECENT_FAILURES:
            items.append(
                {
                    "kind": "failed-import",
                    "text": f"The latest import of {row['integration'].name} "
                    f"({latest.filename}) failed: {latest.error}",
                    "url": f"/imports/?integration={row['integration'].pk}",
                    "action": "See imports",
                }
            )
    for segment in segment_selectors.segments_for_organization(organization).filter(
        parent__isnull=True
    ):
        if segment.status == Status.FAILED:
            items.append(
                {
                    "kind": "segment-failed",
                    "text": f"Segment “{segment.name}” could not be computed: "
                    f"{segment.status_reason}",
                    "url": f"/segments/{segment.pk}/",
                    "action": "Open segment",
                }
            )
        elif segment.status == Status.NEW and now - segment.updated_at > STUCK_AFTER:
            items.append(
                {
                    "kind": "segment-new",
                    "text": f"Segment “{segment.name}” has not been computed yet.",
                    "url": f"/segments/{segment.pk}/",
                    "action": "Open segment",
                }
            )
    return items


def open_anomalies(organization, shown: int = 5) -> dict:
    """The newest open anomalies of every workspace, and how many are open."""
    found = alert_selectors.anomalies_open(organization, organization.workspaces.all())
    return {"count": found.count(), "items": list(found.order_by("-day", "-id")[:shown])}


def overview(organization, now: datetime.datetime) -> dict:
    today = now.date()
    freshness = import_freshness(organization, now)
    previous_start, previous_end = same_days_last_month(today)
    return {
        "organization": organization,
        "today": today,
        "month_start": today.replace(day=1),
        "previous_start": previous_start,
        "previous_end": previous_end,
        "month_to_date": month_to_date(organization, today),
        "service_movers": service_movers(organization, today),
        "segment_movers": segment_movers(organization, today),
        "movers_count": MOVERS,
        "freshness": freshness,
        "attention": attention(organization, now, freshness),
        "budgets_at_risk": budget_selectors.budgets_at_risk(organization, today),
        "open_anomalies": open_anomalies(organization),
    }
