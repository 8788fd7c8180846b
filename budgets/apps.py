from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "budgets"
    verbose_name = "Budgets and forecasts"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from . import receivers, tasks  # noqa: F401
