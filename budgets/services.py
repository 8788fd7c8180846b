"""Services of the budgets app: the plain functions views, tasks and commands call."""
