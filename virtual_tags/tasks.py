"""Background work of the virtual_tags app (Celery)."""
