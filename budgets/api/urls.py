"""API routes of the budgets app (full paths)."""

urlpatterns = []
