"""API routes of the virtual_tags app (full paths)."""

urlpatterns = []
