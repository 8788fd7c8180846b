"""Background work of the budgets app (Celery)."""
