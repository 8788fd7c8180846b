"""API routes of the alerts app (full paths)."""

urlpatterns = []
