from django.apps import AppConfig


class BusinessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "business"
    verbose_name = "Business metrics and cost to serve"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from . import tasks  # noqa: F401
