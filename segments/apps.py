from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "segments"

    def ready(self):
        from . import receivers  # noqa: F401  (connects to the costs signals)
