from django.apps import AppConfig
from django.db.models.signals import post_delete


class BusinessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "business"
    verbose_name = "Business metrics and cost to serve"

    def ready(self):
        # Register the Celery tasks that services enqueue by name (core.background).
        from metrics.models import UsageDirtyDay

        from . import tasks  # noqa: F401

        # Materialization deletes a dirty usage day once it has recomputed it: the hook that
        # keeps live business metrics current, without metrics knowing this app.
        post_delete.connect(
            _usage_day_materialized, sender=UsageDirtyDay, dispatch_uid="business-live-metrics"
        )


def _usage_day_materialized(sender, instance, **kwargs):
    from .services import usage_day_materialized

    usage_day_materialized(
        instance.organization_id, instance.code, instance.customer_id, instance.day
    )
