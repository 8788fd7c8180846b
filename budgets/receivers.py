"""Reactions to cost-data events: an import changes the history forecasts and budgets read."""

from django.dispatch import receiver

from core import background
from costs.signals import focus_import_completed

from . import services


@receiver(focus_import_completed)
def refresh_after_import(sender, organization_id, **kwargs):
    # The signal is sent after the import committed: enqueue straight away.
    background.task(services.REFRESH_TASK).delay(str(organization_id))
