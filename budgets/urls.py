"""Pages of the budgets app."""

from django.urls import path

from . import views

app_name = "budgets"

urlpatterns = [
    path("budgets/", views.budget_list, name="list"),
    path("budgets/new/", views.budget_create, name="create"),
    path("budgets/<str:token>/", views.budget_detail, name="detail"),
    path("budgets/<str:token>/edit/", views.budget_edit, name="edit"),
    path("budgets/<str:token>/delete/", views.budget_delete, name="delete"),
    path("budgets/<str:token>/alerts/", views.alert_create, name="alert-create"),
    path(
        "budgets/<str:token>/alerts/<str:alert_token>/delete/",
        views.alert_delete,
        name="alert-delete",
    ),
]
