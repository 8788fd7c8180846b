"""Background work of the business app (Celery)."""
