"""Reactions to cost-data events: an import re-applies the organization's virtual tags."""

from django.dispatch import receiver

from costs.signals import focus_import_completed

from . import services


@receiver(focus_import_completed)
def apply_after_import(sender, organization_id, provider, **kwargs):
    services.apply_after_import(organization_id, provider)
