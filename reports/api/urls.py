from django.urls import path

from . import costs, vantage

# Vantage: no trailing slash, as its clients call it.
urlpatterns = [
    path("v2/folders", vantage.FolderListView.as_view(), name="vantage-folders"),
    path(
        "v2/folders/<str:folder_token>", vantage.FolderDetailView.as_view(), name="vantage-folder"
    ),
    path("v2/saved_filters", vantage.SavedFilterListView.as_view(), name="vantage-saved-filters"),
    path(
        "v2/saved_filters/<str:saved_filter_token>",
        vantage.SavedFilterDetailView.as_view(),
        name="vantage-saved-filter",
    ),
    path("v2/cost_reports", vantage.CostReportListView.as_view(), name="vantage-cost-reports"),
    path(
        "v2/cost_reports/<str:cost_report_token>",
        vantage.CostReportDetailView.as_view(),
        name="vantage-cost-report",
    ),
    path("v2/costs", costs.CostsView.as_view(), name="vantage-costs"),
    path("v2/costs/data_exports", costs.CostExportView.as_view(), name="vantage-cost-exports"),
    path(
        "v2/data_exports/<str:data_export_token>",
        costs.DataExportView.as_view(),
        name="vantage-data-export",
    ),
    path(
        "v2/data_exports/<str:data_export_token>/files/<str:file_name>",
        costs.DataExportFileView.as_view(),
        name="vantage-data-export-file",
    ),
    path("v2/tags", costs.TagListView.as_view(), name="vantage-tags"),
    path("v2/tags/<path:key>/values", costs.TagValuesView.as_view(), name="vantage-tag-values"),
]
