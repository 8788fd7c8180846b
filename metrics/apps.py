from django.apps import AppConfig

from segments import panels


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self):
        # Models are ready only now. tasks registers the Celery tasks that services enqueue
        # by name (core.background).
        from . import tasks  # noqa: F401
        from .unit_costs import SEGMENT_PANEL

        panels.register(SEGMENT_PANEL)  # the unit-cost panel of the segment page
