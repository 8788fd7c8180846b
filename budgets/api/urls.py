"""API routes of the budgets app (full paths; Vantage's: no trailing slash, as its clients call)."""

from django.urls import path

from . import vantage

urlpatterns = [
    path("v2/budgets", vantage.BudgetListView.as_view(), name="vantage-budgets"),
    path(
        "v2/budgets/<str:budget_token>", vantage.BudgetDetailView.as_view(), name="vantage-budget"
    ),
    path("v2/budget_alerts", vantage.BudgetAlertListView.as_view(), name="vantage-budget-alerts"),
    path(
        "v2/budget_alerts/<str:budget_alert_token>",
        vantage.BudgetAlertDetailView.as_view(),
        name="vantage-budget-alert",
    ),
    path(
        "v2/cost_reports/<str:cost_report_token>/forecasted_costs",
        vantage.ForecastedCostsView.as_view(),
        name="vantage-forecasted-costs",
    ),
    path(
        "v2/report_forecasts",
        vantage.ReportForecastListView.as_view(),
        name="vantage-report-forecasts",
    ),
    path(
        "v2/report_forecasts/<str:report_forecast_token>",
        vantage.ReportForecastDetailView.as_view(),
        name="vantage-report-forecast",
    ),
]
