"""Background work of the alerts app (Celery): thin wrappers over the services."""

import datetime

from celery import shared_task
from django.db import OperationalError

from organizations.models import Organization

from . import delivery, digest, services


@shared_task(
    name="alerts.send_delivery",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def send_delivery(delivery_id: int) -> str:
    """One try at one delivery; a failure schedules the next try itself (bounded backoff)."""
    sent = delivery.delivery_send(delivery_id)
    return sent.status if sent is not None else "missing"


@shared_task(name="alerts.retry_due_deliveries", acks_late=True)
def retry_due_deliveries() -> int:
    """Pick up retries and queued deliveries whose message was lost (a worker died)."""
    return delivery.deliveries_retry_due()


@shared_task(name="alerts.run_checks", acks_late=True)
def run_checks(organization_id: str, judge_from: str | None = None) -> dict:
    """Anomaly detection and the alert checks of one organization; safe to run twice."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return {}
    day = datetime.date.fromisoformat(judge_from) if judge_from else None
    return services.checks_run(organization, judge_from=day)


@shared_task(name="alerts.run_all_checks", acks_late=True)
def run_all_checks() -> int:
    """The daily run (beat): one ``alerts.run_checks`` per organization with cost data."""
    return services.checks_enqueue_all()


@shared_task(name="alerts.send_weekly_digests", acks_late=True)
def send_weekly_digests() -> int:
    """Monday's digest of the last full week to every member (beat); safe to run twice."""
    return digest.digests_send()
