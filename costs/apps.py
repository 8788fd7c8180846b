from django.apps import AppConfig


class CostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "costs"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from . import tasks  # noqa: F401
