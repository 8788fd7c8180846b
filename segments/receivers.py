"""Reactions to cost-data events: system segments appear, imports refresh what they touched."""

from django.dispatch import receiver

from costs.signals import focus_import_completed, integration_created

from . import services


@receiver(integration_created)
def create_system_segment(sender, integration, **kwargs):
    services.system_segment_ensure(integration.organization, integration.provider)


@receiver(focus_import_completed)
def refresh_after_import(sender, organization_id, provider, months, **kwargs):
    services.segments_refresh_after_import(organization_id, provider, list(months))
