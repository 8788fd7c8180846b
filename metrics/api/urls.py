"""API routes of the metrics app; a trailing slash is optional (no redirect either way)."""

from core.routes import optional_slash

from . import views


def route(pattern: str, view, name: str, **initkwargs) -> list:
    return optional_slash(rf"^api/v1/{pattern}", view, name, **initkwargs)


ID = r"(?P<pk>[A-Za-z0-9_]+)"

urlpatterns = [
    *route("product-families", views.ProductFamilyListView, "product-families"),
    *route(f"product-families/{ID}", views.ProductFamilyDetailView, "product-family"),
    *route("products", views.ProductListView, "products"),
    *route(f"products/{ID}", views.ProductDetailView, "product"),
    *route("customers", views.CustomerListView, "customers"),
    *route(f"customers/{ID}", views.CustomerDetailView, "customer"),
    *route("metrics", views.MetricListView, "metrics"),
    *route(f"metrics/{ID}", views.MetricDetailView, "metric"),
    *route(f"metrics/{ID}/archive", views.MetricArchiveView, "metric-archive", archive=True),
    *route(f"metrics/{ID}/unarchive", views.MetricArchiveView, "metric-unarchive", archive=False),
    *route(f"metrics/{ID}/usage", views.MetricUsageView, "metric-usage"),
    *route("events/ingest", views.EventIngestView, "events-ingest"),
    *route("events", views.EventListView, "events"),
    *route("unit-costs", views.UnitCostView, "unit-costs"),
]
