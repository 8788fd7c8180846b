from django.apps import AppConfig


class VirtualTagsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "virtual_tags"
    verbose_name = "Virtual tags"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from . import tasks  # noqa: F401
