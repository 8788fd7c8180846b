"""Anomalies: which series are watched, running the detector over them, feedback, notifying.

The series of an organization, per day:

- each cost report's total (its filter, saved filters and settings, as ``/v2/costs`` reads it),
  and inside each report its top ``ALERTS_TOP_SERIES`` services and accounts by spend;
- each segment's cost (its stored daily metrics, report settings applied).

They become one (days × series) matrix and ``alerts.detection.detect`` judges every day of it at
once. The days judged end at the organization's latest day of cost data (imports lag the
calendar), so a run after an import of older months still judges them.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import ServiceError
from costs.columnar.query import ROLLUP, select
from costs.currencies import currencies
from organizations.models import Organization
from reports import costs as report_costs
from reports import selectors as report_selectors
from reports.models import CostReport
from segments.models import Granularity, Segment
from segments.selectors import segment_cost_series, segments_for_organization

from . import delivery
from .detection import DEFAULT_WEEKS, DEFAULT_Z, detect
from .models import (
    Anomaly,
    AnomalyNotification,
    AnomalyStatus,
    Channel,
    Direction,
    SeriesKind,
    SeriesTuning,
)

logger = logging.getLogger("costline.alerts")
ZERO = Decimal(0)
# "Expected" feedback: the series' z threshold × 1.25 and its minimum impact at least 110% of
# that anomaly's, so a deviation of the same size stays quiet and a larger one still alerts.
EXPECTED_Z_FACTOR = 1.25
EXPECTED_IMPACT_FACTOR = Decimal("1.1")
MAX_Z = 100.0
CENT = Decimal("0.01")


def default_z() -> float:
    return float(getattr(settings, "ALERTS_ANOMALY_Z", DEFAULT_Z))


def default_min_impact() -> Decimal:
    return Decimal(str(getattr(settings, "ALERTS_ANOMALY_MIN_IMPACT", 25)))


def top_series() -> int:
    return int(getattr(settings, "ALERTS_TOP_SERIES", 10))


@dataclass
class Series:
    key: str
    kind: str
    label: str
    currency: str
    amounts: dict[datetime.date, Decimal] = field(default_factory=dict)
    cost_report: CostReport | None = None
    segment: Segment | None = None
    provider: str = ""
    service: str = ""
    account: str = ""
    category: str | None = None


def last_data_day(organization: Organization) -> datetime.date | None:
    """The latest usage day in the organization's cost data (None without any)."""
    rows = select(
        organization.pk, f"SELECT max(charge_period_start) AS last_day FROM {ROLLUP}"
    ).to_pylist()
    last = rows[0]["last_day"] if rows else None
    if last is None or last.year < 2000:
        return None
    return min(last, timezone.now().date())


def _grouped_report_series(
    organization,
    report: CostReport,
    start,
    end,
    grouping: list[str],
    kind: str,
    top: int | None = -1,
) -> list[Series]:
    """The report's series of one kind (its total, or its ``top`` groups by spend: the
    ``ALERTS_TOP_SERIES`` setting by default, every group with None)."""
    query = report_selectors.cost_query_for(
        report=report,
        groupings=grouping,
        start=start,
        end=end,
        date_bin="day",
        settings={"show_previous_period": False},
        today=end,
    )
    result = report_costs.report_costs(organization, query)
    currency = result.currency
    by_group: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    # A service's category (FOCUS ServiceCategory, Vantage's anomaly ``category``): the one
    # that carries most of its cost.
    categories: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    keys = [name for name in grouping if name != "cost_category"]
    for line in result.lines:
        if line.currency != currency:
            continue  # amounts in different currencies are never added
        key = tuple(str(line.group.get(name) or "") for name in keys)
        by_group[key][line.accrued_at] += line.amount
        if "cost_category" in grouping:
            categories[key][str(line.group.get("cost_category") or "")] += line.amount
    series = []
    if not grouping:
        amounts = dict(by_group.get((), {}))
        return [
            Series(
                f"report:{report.token}",
                SeriesKind.REPORT,
                report.title,
                currency,
                amounts,
                cost_report=report,
            )
        ]
    ranked = sorted(by_group.items(), key=lambda item: sum(item[1].values()), reverse=True)
    if top == -1:
        top = top_series()
    for values, amounts in ranked[:top] if top is not None else ranked:
        if kind == SeriesKind.SERVICE:
            provider, service = values
            category = max(categories[values].items(), key=lambda item: item[1], default=("",))[0]
            series.append(
                Series(
                    f"report:{report.token}|service:{provider}/{service}",
                    kind,
                    f"{service or 'Unknown service'} ({provider}) in {report.title}",
                    currency,
                    dict(amounts),
                    cost_report=report,
                    provider=provider,
                    service=service,
                    category=category or None,
                )
            )
        else:
            (account,) = values
            series.append(
                Series(
                    f"report:{report.token}|account:{account}",
                    kind,
                    f"Account {account or 'unknown'} in {report.title}",
                    currency,
                    dict(amounts),
                    cost_report=report,
                    account=account,
                )
            )
    return series


def organization_series(
    organization: Organization, start: datetime.date, end: datetime.date
) -> list[Series]:
    """Every watched daily series of the organization between two days (both included)."""
    series: list[Series] = []
    reports = CostReport.objects.filter(organization=organization).order_by("id")
    for report in reports:
        try:
            series += _grouped_report_series(
                organization, report, start, end, [], SeriesKind.REPORT
            )
            series += _grouped_report_series(
                organization,
                report,
                start,
                end,
                ["provider", "service", "cost_category"],
                SeriesKind.SERVICE,
            )
            series += _grouped_report_series(
                organization, report, start, end, ["account_id"], SeriesKind.ACCOUNT
            )
        except ServiceError as error:
            # A report that cannot be read (e.g. a filter left meaningless) skips itself only.
            logger.warning("anomalies: report %s skipped: %s", report.token, error.message)
    currency = (currencies(organization) or ["USD"])[0]
    for segment in segments_for_organization(organization).order_by("created_at"):
        series.append(
            Series(
                f"segment:{segment.token}",
                SeriesKind.SEGMENT,
                f"Segment {segment.name}",
                currency,
                segment_cost_series(segment, Granularity.DAY, start, end),
                segment=segment,
            )
        )
    return series


def series_of(anomaly: Anomaly, start: datetime.date, end: datetime.date) -> Series | None:
    """The one series an anomaly belongs to, between two days (None if it no longer exists)."""
    if anomaly.segment_id is not None:
        segment = anomaly.segment
        amounts = segment_cost_series(segment, Granularity.DAY, start, end)
        currency = anomaly.currency
        return Series(anomaly.series_key, SeriesKind.SEGMENT, anomaly.label, currency, amounts)
    if anomaly.cost_report_id is None:
        return None
    grouping, kind = {
        SeriesKind.REPORT: ([], SeriesKind.REPORT),
        SeriesKind.SERVICE: (["provider", "service", "cost_category"], SeriesKind.SERVICE),
        SeriesKind.ACCOUNT: (["account_id"], SeriesKind.ACCOUNT),
    }[anomaly.series_kind]
    found = _grouped_report_series(
        anomaly.organization, anomaly.cost_report, start, end, grouping, kind, top=None
    )
    return next((item for item in found if item.key == anomaly.series_key), None)


def series_matrix(series: list[Series], start, end) -> pd.DataFrame:
    """Days × series; a day without cost after a series' first is 0, before it is unknown."""
    days = pd.date_range(start, end, freq="D").date
    frame = pd.DataFrame(
        {
            index: pd.Series({d: float(v) for d, v in s.amounts.items()})
            for index, s in enumerate(series)
        },
        index=days,
        columns=range(len(series)),
        dtype=float,
    )
    seen = frame.notna().cummax()
    return frame.fillna(0.0).where(seen)


def tunings(organization, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-series z threshold and minimum impact (defaults unless feedback tuned them)."""
    tuned = {
        tuning.series_key: tuning
        for tuning in SeriesTuning.objects.filter(organization=organization, series_key__in=keys)
    }
    z = np.array([tuned[k].z_threshold if k in tuned else default_z() for k in keys])
    impact = np.array(
        [float(tuned[k].min_impact if k in tuned else default_min_impact()) for k in keys]
    )
    return z, impact


def money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 6))) if np.isfinite(value) else ZERO


def anomalies_detect(
    organization: Organization,
    *,
    judge_from: datetime.date | None = None,
    end: datetime.date | None = None,
    notify: bool = True,
) -> list[Anomaly]:
    """Judge the days from ``judge_from`` (default: the last 3) to ``end`` (default: the latest
    day of cost data); record the anomalies found (once per series and day) and notify."""
    end = end or last_data_day(organization)
    if end is None:
        return []
    lookback = int(getattr(settings, "ALERTS_DETECT_LOOKBACK_DAYS", 3))
    judge_from = judge_from or end - datetime.timedelta(days=lookback - 1)
    judge_from = max(judge_from, end - datetime.timedelta(days=92))
    start = judge_from - datetime.timedelta(days=7 * DEFAULT_WEEKS)
    series = organization_series(organization, start, end)
    if not series:
        return []
    matrix = series_matrix(series, start, end)
    z, impact = tunings(organization, [s.key for s in series])
    found = detect(matrix.to_numpy(), z_threshold=z, min_impact=impact)
    days = matrix.index
    first_judged = days.searchsorted(judge_from)
    rows, columns = np.nonzero(found.onset[first_judged:])
    candidates = []
    for row, column in zip(rows + first_judged, columns, strict=True):
        item = series[column]
        baseline = found.baseline[row, column]
        candidates.append(
            Anomaly(
                organization=organization,
                series_key=item.key,
                series_kind=item.kind,
                label=item.label[:500],
                cost_report=item.cost_report,
                segment=item.segment,
                provider=item.provider,
                service=item.service,
                account=item.account,
                category=item.category,
                day=days[row],
                currency=item.currency,
                amount=money(matrix.iat[row, column]),
                expected_amount=money(baseline),
                previous_amount=money(found.previous[row, column]),
                seven_day_average=money(found.seven_day_average[row, column]),
                score=round(float(found.score[row, column]), 3),
                direction=Direction.SPIKE if found.score[row, column] > 0 else Direction.DROP,
            )
        )
    existing = set(
        Anomaly.objects.filter(
            organization=organization, day__gte=judge_from, day__lte=end
        ).values_list("series_key", "day")
    )
    new = [a for a in candidates if (a.series_key, a.day) not in existing]
    Anomaly.objects.bulk_create(new, ignore_conflicts=True)
    created = list(
        Anomaly.objects.filter(token__in=[a.token for a in new]).select_related("cost_report")
    )
    if notify:
        recent = end - datetime.timedelta(
            days=int(getattr(settings, "ALERTS_NOTIFY_MAX_AGE_DAYS", 3))
        )
        for anomaly in created:
            if anomaly.day > recent:
                anomaly_notify(anomaly)
    return created


# --------------------------------------------------------------------------- notifying


def anomaly_url(anomaly: Anomaly) -> str:
    base = getattr(settings, "ALERTS_BASE_URL", "http://localhost:8000").rstrip("/")
    return f"{base}/alerts/anomalies/{anomaly.token}/"


def anomaly_message(anomaly: Anomaly) -> tuple[str, str, dict]:
    impact = anomaly.amount - anomaly.expected_amount
    sign = "+" if impact >= 0 else "−"
    subject = (
        f"Cost {anomaly.direction} on {anomaly.day:%Y-%m-%d}: {anomaly.label} "
        f"({sign}{anomaly.currency} {abs(impact):,.2f})"
    )
    text = (
        f"{anomaly.label} cost {anomaly.currency} {anomaly.amount:,.2f} "
        f"on {anomaly.day:%A %d %B %Y}, "
        f"against {anomaly.currency} {anomaly.expected_amount:,.2f} expected (the median of the "
        f"same weekday over the previous weeks): {sign}{anomaly.currency} {abs(impact):,.2f}, "
        f"robust z-score {anomaly.score:+.1f}.\n"
        f"The day before: {anomaly.currency} {anomaly.previous_amount:,.2f}; seven-day average "
        f"{anomaly.currency} {anomaly.seven_day_average:,.2f}.\n{anomaly_url(anomaly)}"
    )
    payload = {
        "type": "anomaly",
        "token": anomaly.token,
        "series": anomaly.series_key,
        "label": anomaly.label,
        "day": anomaly.day.isoformat(),
        "currency": anomaly.currency,
        "amount": str(anomaly.amount),
        "expected_amount": str(anomaly.expected_amount),
        "impact": str(impact),
        "score": anomaly.score,
        "direction": anomaly.direction,
        "cost_report_token": anomaly.cost_report.token if anomaly.cost_report_id else None,
        "url": anomaly_url(anomaly),
    }
    return subject, text, payload


def notifications_for(anomaly: Anomaly) -> QuerySet[AnomalyNotification]:
    impact = abs(anomaly.amount - anomaly.expected_amount)
    return AnomalyNotification.objects.filter(
        organization_id=anomaly.organization_id,
        cost_report_id=anomaly.cost_report_id,
        threshold__lte=impact,
    ).prefetch_related("users")


def anomaly_notify(anomaly: Anomaly) -> list:
    """Deliver an anomaly to the recipients of its report's notifications whose threshold its
    impact reaches; one delivery per recipient however many notifications name them."""
    if anomaly.cost_report_id is None:
        return []
    emails: list[str] = []
    channel_names: set[str] = set()
    for notification in notifications_for(anomaly):
        emails += [user.email for user in notification.users.all() if user.email]
        channel_names.update(notification.recipient_channels)
    channels = Channel.objects.filter(
        organization_id=anomaly.organization_id, enabled=True, name__in=channel_names
    )
    if not emails and not channel_names:
        return []
    subject, text, payload = anomaly_message(anomaly)
    sent = delivery.deliver(
        anomaly.organization,
        event_key=f"anomaly:{anomaly.token}",
        subject=subject,
        text=text,
        payload=payload,
        emails=emails,
        channels=list(channels),
    )
    Anomaly.objects.filter(pk=anomaly.pk, alerted_at__isnull=True).update(alerted_at=timezone.now())
    return sent


# --------------------------------------------------------------------------- feedback


def series_tuning(anomaly: Anomaly) -> SeriesTuning:
    tuning, _ = SeriesTuning.objects.get_or_create(
        organization_id=anomaly.organization_id,
        series_key=anomaly.series_key,
        defaults={"z_threshold": default_z(), "min_impact": default_min_impact()},
    )
    return tuning


def anomaly_update(
    anomaly: Anomaly,
    *,
    status: str | None = None,
    feedback: str | None = None,
    expected: bool | None = None,
) -> Anomaly:
    """Change an anomaly's status and feedback. Marking it expected archives it (unless a
    status is given) and raises its series' thresholds (``EXPECTED_*``), so a deviation of the
    same size does not alert again (docs/alerts.md)."""
    if status is not None and status not in AnomalyStatus.values:
        raise ServiceError(
            f'"{status}" is not a status: use {", ".join(AnomalyStatus.values)}.',
            field="status",
            code="invalid",
        )
    if feedback is not None and len(feedback) > 5000:
        raise ServiceError("At most 5000 characters.", field="feedback", code="too_long")
    with transaction.atomic():
        anomaly = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
        if expected and not anomaly.marked_expected:
            tuning = SeriesTuning.objects.select_for_update().filter(pk=series_tuning(anomaly).pk)
            tuning = tuning.get()
            tuning.z_threshold = min(tuning.z_threshold * EXPECTED_Z_FACTOR, MAX_Z)
            tuning.min_impact = max(
                tuning.min_impact, (abs(anomaly.impact) * EXPECTED_IMPACT_FACTOR).quantize(CENT)
            )
            tuning.expected_marks += 1
            tuning.save()
            anomaly.marked_expected = True
            if status is None:
                status = AnomalyStatus.ARCHIVED
        elif expected is False:
            anomaly.marked_expected = False
        if status is not None:
            anomaly.status = status
        if feedback is not None:
            anomaly.feedback = feedback
        anomaly.save()
    return anomaly
