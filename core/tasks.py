"""Tasks of no particular domain: a probe used by health checks and the worker test. (The sweep
that finds work whose worker died, ``core.recover_stuck_work``, is ``console.tasks``: it calls
several apps.)"""

from celery import shared_task


@shared_task(name="core.echo", acks_late=True)
def echo(payload: dict) -> dict:
    """Return the payload with the answering worker's mark; proves a round trip through a broker."""
    worker = "eager" if echo.request.is_eager else echo.request.hostname
    return {"echo": payload, "worker": worker}
