"""Background work of the alerts app (Celery): thin wrappers over the services."""

from celery import shared_task
from django.db import OperationalError

from . import delivery


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
