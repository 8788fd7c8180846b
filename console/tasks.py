"""The sweep that finds work whose worker died, across the apps that queue work."""

import logging

from celery import shared_task

from costs.services import import_jobs_recover
from segments.services import tree_refreshes_recover

logger = logging.getLogger("costline.recovery")


# Registered under its first name: beat schedules and stored results refer to it.
@shared_task(name="core.recover_stuck_work", acks_late=True)
def recover_stuck_work() -> dict:
    """Beat, every ``WORK_RECOVERY_INTERVAL_SECONDS``: import jobs and segment tree refreshes
    whose worker is gone are queued again (or, for imports run too often, failed with the
    reason)."""
    outcome = {"imports": import_jobs_recover(), "segment_trees": tree_refreshes_recover()}
    if any(ids for part in outcome.values() for ids in part.values()):
        logger.warning("recovered stuck work: %s", outcome)
    return outcome
