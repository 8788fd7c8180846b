"""Reactions to cost-data events: an import changes the history forecasts and budgets read."""

import logging

from django.dispatch import receiver

from core import background
from costs.signals import focus_import_completed

from . import services

logger = logging.getLogger(__name__)


@receiver(focus_import_completed)
def refresh_after_import(sender, organization_id, **kwargs):
    # The signal is sent after the import committed: enqueue straight away. Whatever goes wrong
    # here (a broker down; in eager mode, the refresh itself) is logged and never fails the
    # import that already succeeded; the nightly refresh catches up.
    try:
        background.task(services.REFRESH_TASK).delay(str(organization_id))
    except Exception:
        logger.exception("budgets refresh after the import of %s failed", organization_id)
