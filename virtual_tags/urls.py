"""Pages of the virtual_tags app."""

app_name = "virtual_tags"

urlpatterns = []
