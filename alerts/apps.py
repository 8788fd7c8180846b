from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"
    verbose_name = "Budgets, anomalies and alerts"

    def ready(self):
        # receivers connect to the costs signals (an import schedules the checks); tasks
        # register the Celery tasks that services enqueue by name (core.background).
        from . import receivers, tasks  # noqa: F401
