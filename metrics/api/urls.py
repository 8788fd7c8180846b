"""API routes of the metrics app; a trailing slash is optional (no redirect either way)."""

from django.urls import re_path

from . import views


def route(pattern: str, view, name: str):
    return re_path(rf"^api/v1/{pattern}(?:/)?$", view.as_view(), name=name)


ID = r"(?P<pk>[A-Za-z0-9_]+)"

urlpatterns = [
    route("product-families", views.ProductFamilyListView, "product-families"),
    route(f"product-families/{ID}", views.ProductFamilyDetailView, "product-family"),
    route("products", views.ProductListView, "products"),
    route(f"products/{ID}", views.ProductDetailView, "product"),
    route("customers", views.CustomerListView, "customers"),
    route(f"customers/{ID}", views.CustomerDetailView, "customer"),
    route("metrics", views.MetricListView, "metrics"),
    route(f"metrics/{ID}", views.MetricDetailView, "metric"),
    re_path(
        rf"^api/v1/metrics/{ID}/archive(?:/)?$",
        views.MetricArchiveView.as_view(archive=True),
        name="metric-archive",
    ),
    re_path(
        rf"^api/v1/metrics/{ID}/unarchive(?:/)?$",
        views.MetricArchiveView.as_view(archive=False),
        name="metric-unarchive",
    ),
    route(f"metrics/{ID}/usage", views.MetricUsageView, "metric-usage"),
    route("events/ingest", views.EventIngestView, "events-ingest"),
    route("events", views.EventListView, "events"),
    route("unit-costs", views.UnitCostView, "unit-costs"),
]
