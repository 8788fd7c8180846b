"""Background work asked for by name: a service enqueues a Celery task without importing it.

An app's ``tasks`` import the services they wrap, so a service that imported ``tasks`` back
would close a circle. A service names the task instead, by the ``name=`` it keeps forever, and
``task(name)`` finds it in the Celery app's registry, where the app's ``AppConfig.ready()``
put it by importing its ``tasks``. What comes back is the task object itself: eager mode
(``CELERY_TASK_ALWAYS_EAGER``), retries, routing and a test's patch of its ``apply_async``
apply as if it had been imported. A name nothing registered raises ``NotRegistered``.
"""

from celery import Task, current_app


def task(name: str) -> Task:
    """The Celery task registered under ``name``."""
    return current_app.tasks[name]
