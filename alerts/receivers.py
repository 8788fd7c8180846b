"""Reactions to cost-data events: an import that committed schedules the alert checks."""

from django.dispatch import receiver

from costs.signals import focus_import_completed

from . import services


@receiver(focus_import_completed)
def check_after_import(sender, organization_id, months, **kwargs):
    services.checks_after_import(organization_id, list(months))
