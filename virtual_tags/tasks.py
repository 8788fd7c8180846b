"""Celery tasks of virtual tags: thin wrappers over ``virtual_tags.services``."""

from celery import shared_task
from django.db import OperationalError

from . import services
from .models import VirtualTagConfig


@shared_task(
    name="virtual_tags.apply",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def apply(config_id: int) -> str:
    """Apply one virtual tag (shares, filter values, segment trees); safe to run twice."""
    config = services.apply(config_id)
    return "missing" if config is None else "applied"


@shared_task(
    name="virtual_tags.update_async",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def update_async(update_id: int) -> str:
    """Save one update asked for through ``PUT .../async``."""
    update = services.run_async_update(update_id)
    return "missing" if update is None else update.status


@shared_task(name="virtual_tags.apply_all")
def apply_all() -> int:
    """Daily: apply again every tag whose shares come from data (business metrics grow)."""
    configs = VirtualTagConfig.objects.all()
    count = 0
    for config in configs:
        if any(v.get("business_metric_token") or v.get("cost_metric") for v in config.values):
            services.apply(config.pk)
            count += 1
    return count
