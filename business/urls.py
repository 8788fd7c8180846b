"""Pages of the business app: cost to serve per customer, and statements."""

from django.urls import path

from . import views

app_name = "business"

urlpatterns = [
    path("cost-to-serve/", views.customer_list, name="customers"),
    path(
        "cost-to-serve/customers/<str:external_id>/",
        views.customer_detail,
        name="customer",
    ),
    path("cost-to-serve/price/", views.metric_price, name="metric-price"),
    path("cost-to-serve/focus-exports/", views.focus_export_create, name="focus-export-create"),
    path(
        "cost-to-serve/focus-exports/<str:token>/<str:name>",
        views.focus_export_file,
        name="focus-export-file",
    ),
    path("cost-to-serve/statements/", views.statement_create, name="statement-create"),
    path(
        "cost-to-serve/statements/<str:token>/<str:name>",
        views.statement_file,
        name="statement-file",
    ),
]
