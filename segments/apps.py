from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "segments"

    def ready(self):
        # receivers connect to the costs signals; tasks register the Celery tasks that
        # services enqueue by name (core.background).
        from . import receivers, tasks  # noqa: F401
