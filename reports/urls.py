"""Pages of the reports app."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_list, name="list"),
    path("reports/new/", views.report_create, name="create"),
    path("reports/folders/new/", views.folder_create, name="folder-create"),
    path("reports/folders/<str:token>/delete/", views.folder_delete, name="folder-delete"),
    path("reports/<str:token>/", views.report_detail, name="detail"),
    path("reports/<str:token>/edit/", views.report_edit, name="edit"),
    path("reports/<str:token>/costs.csv", views.report_csv, name="csv"),
    path("reports/<str:token>/delete/", views.report_delete, name="delete"),
]
