"""Pages of the business app."""

app_name = "business"

urlpatterns = []
