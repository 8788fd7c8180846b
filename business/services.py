"""Services of the business app: the plain functions views, tasks and commands call."""
