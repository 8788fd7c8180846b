from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self):
        from segments import panels

        from .unit_costs import SEGMENT_PANEL

        panels.register(SEGMENT_PANEL)  # the unit-cost panel of the segment page
