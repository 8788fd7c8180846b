from django.apps import AppConfig


class FilterSegmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "filter_segments"
