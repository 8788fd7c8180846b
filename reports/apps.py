from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Cost reports"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from . import tasks  # noqa: F401
