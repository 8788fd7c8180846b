"""Background work of the alerts app (Celery)."""
