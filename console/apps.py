from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The top of the stack: what composes several apps (overview, onboarding, demo data,
    health checks, the recovery sweep). Nothing imports it but the project's URLconf."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "console"
