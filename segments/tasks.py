"""Celery tasks of the segments engine: thin, idempotent wrappers over services."""

from datetime import date

from celery import shared_task

from . import services


@shared_task(
    name="segments.refresh_segment_tree",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def refresh_segment_tree(segment_id: str, months: list[str] | None = None, organization_id=None):
    """Recompute one tree's metrics (``months`` as ISO dates, or all). Safe to run twice."""
    parsed = [date.fromisoformat(month) for month in months] if months else None
    services.segment_tree_refresh(segment_id, parsed)


@shared_task(name="segments.refresh_all_segments", acks_late=True)
def refresh_all_segments():
    """Nightly: recompute every tree (each one as its own task)."""
    for top in services.top_level_segments_all():
        refresh_segment_tree.delay(str(top.pk), None, organization_id=str(top.organization_id))
