"""Services of the alerts app: running every check of an organization, and scheduling it.

The checks (anomaly detection, cost alerts, Costline alerts) run after each import (the
``costs.signals.focus_import_completed`` receiver) and daily (beat); each is idempotent, so a
run twice records and sends nothing twice.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction

from core.background import task
from costs.columnar.models import ColumnarPartition
from organizations.models import Organization

from .anomalies import anomalies_detect

CHECK_TASK = "alerts.run_checks"


def checks_run(
    organization: Organization, *, judge_from: datetime.date | None = None
) -> dict[str, int]:
    """Every alert check of the organization; what each found."""
    anomalies = anomalies_detect(organization, judge_from=judge_from)
    return {"anomalies": len(anomalies)}


def checks_enqueue(organization_id, judge_from: datetime.date | None = None) -> None:
    """Run the checks in the background once the caller's transaction commits; after an import
    they wait ``ALERTS_CHECK_DELAY_SECONDS`` so the segment refresh it started lands first."""
    countdown = getattr(settings, "ALERTS_CHECK_DELAY_SECONDS", 120)
    arguments = (organization_id, judge_from.isoformat() if judge_from else None)
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
        task(CHECK_TASK).apply_async((organization_id, None))
    return len(organizations)
