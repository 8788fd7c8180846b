"""Services of the alerts app: the plain functions views, tasks and commands call."""
