"""Tasks of no particular domain: a probe used by health checks and the worker test, and the
sweep that finds work whose worker died."""

import logging

from celery import shared_task

logger = logging.getLogger("costline.recovery")


@shared_task(name="core.echo", acks_late=True)
def echo(payload: dict) -> dict:
    """Return the payload with the answering worker's mark; proves a round trip through a broker."""
    worker = "eager" if echo.request.is_eager else echo.request.hostname
    return {"echo": payload, "worker": worker}


@shared_task(name="core.recover_stuck_work", acks_late=True)
def recover_stuck_work() -> dict:
    """Beat, every ``WORK_RECOVERY_INTERVAL_SECONDS``: import jobs and segment tree refreshes
    whose worker is gone are queued again (or, for imports run too often, failed with the
    reason)."""
    from costs.services import import_jobs_recover
    from segments.services import tree_refreshes_recover

    outcome = {"imports": import_jobs_recover(), "segment_trees": tree_refreshes_recover()}
    if any(ids for part in outcome.values() for ids in part.values()):
        logger.warning("recovered stuck work: %s", outcome)
    return outcome
