from django.urls import path

from . import views

app_name = "costs"

urlpatterns = [
    path("costs/", views.CostExplorerView.as_view(), name="explorer"),
    path("costs/export.csv", views.CostExportView.as_view(), name="export"),
    path("integrations/", views.IntegrationListView.as_view(), name="integrations"),
    path("integrations/<uuid:pk>/sync/", views.integration_sync, name="integration-sync"),
    path("integrations/<uuid:pk>/test/", views.integration_test, name="integration-test"),
    path("imports/", views.ImportListView.as_view(), name="imports"),
    path("imports/<uuid:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<uuid:pk>/rerun/", views.import_rerun, name="import-rerun"),
]
