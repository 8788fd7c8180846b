from django.apps import AppConfig


class VirtualTagsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "virtual_tags"
    verbose_name = "Virtual tags"

    def ready(self):
        from costs.columnar import query

        from . import expand, receivers, tasks  # noqa: F401 (tasks: registered with Celery)

        # Every query that reads tags sees virtual tags (costs sits below this app: a hook).
        if expand.rows_transform not in query.ROWS_TRANSFORMS:
            query.ROWS_TRANSFORMS.append(expand.rows_transform)
