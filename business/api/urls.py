"""API routes of the business app (full paths). Vantage: no trailing slash."""

from django.urls import path

from . import vantage

urlpatterns = [
    path(
        "v2/business_metrics",
        vantage.BusinessMetricListView.as_view(),
        name="vantage-business-metrics",
    ),
    path(
        "v2/business_metrics/<str:business_metric_token>",
        vantage.BusinessMetricDetailView.as_view(),
        name="vantage-business-metric",
    ),
    path(
        "v2/business_metrics/<str:business_metric_token>/values",
        vantage.BusinessMetricValuesView.as_view(),
        name="vantage-business-metric-values",
    ),
    path(
        "v2/business_metrics/<str:business_metric_token>/values.csv",
        vantage.BusinessMetricValuesCSVView.as_view(),
        name="vantage-business-metric-values-csv",
    ),
    path(
        "v2/business_metrics/<str:business_metric_token>/forecasted_values",
        vantage.BusinessMetricForecastedValuesView.as_view(),
        name="vantage-business-metric-forecasted-values",
    ),
    path(
        "v2/business_metrics/<str:business_metric_token>/labels",
        vantage.BusinessMetricLabelsView.as_view(),
        name="vantage-business-metric-labels",
    ),
    path("v2/unit_costs", vantage.UnitCostsView.as_view(), name="vantage-unit-costs"),
    path(
        "v2/unit_costs/data_exports",
        vantage.UnitCostsExportView.as_view(),
        name="vantage-unit-costs-exports",
    ),
]
