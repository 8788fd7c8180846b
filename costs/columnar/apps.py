from django.apps import AppConfig


class ColumnarConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "costs.columnar"
    label = "columnar"
    verbose_name = "Columnar cost store"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the signal handlers)
