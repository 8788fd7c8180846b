"""API routes of the business app (full paths)."""

urlpatterns = []
