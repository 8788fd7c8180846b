"""Celery tasks of the segments engine: thin, idempotent wrappers over services."""

from datetime import date

from celery import shared_task

from . import selectors, services


@shared_task(
    name="segments.refresh_segment_tree",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def refresh_segment_tree(
    segment_id: str,
    months: list[str] | None = None,
    organization_id=None,
    generation: int | None = None,
):
    """Recompute one tree. With ``generation`` (queued by a change), whatever the tree's
    requests ask for, or nothing when a newer request or an earlier refresh covers it; without,
    ``months`` (ISO dates) or all of them. Safe to run twice."""
    parsed = [date.fromisoformat(month) for month in months] if months else None
    services.segment_tree_refresh(segment_id, parsed, generation=generation)


@shared_task(name="segments.refresh_all_segments", acks_late=True)
def refresh_all_segments():
    """Nightly: ask for every tree to be recomputed (each one as its own, coalescing, task)."""
    for top in selectors.top_level_segments_all():
        services.tree_refresh_enqueue(top)
