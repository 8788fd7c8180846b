"""Services of the virtual_tags app: the plain functions views, tasks and commands call."""
