"""Pages of the budgets app."""

app_name = "budgets"

urlpatterns = []
