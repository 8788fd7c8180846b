from django.apps import AppConfig

from segments import panels


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self):
        from .unit_costs import SEGMENT_PANEL  # models are ready only now

        panels.register(SEGMENT_PANEL)  # the unit-cost panel of the segment page
