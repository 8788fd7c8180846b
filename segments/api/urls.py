from django.urls import path

from core.schema import alias

from . import archera, filters, vantage

ORG = "beta/v1/org/<str:org_id>/segments"
SEGMENT = "<uuid:segment_id>"


def archera_route(route: str, view, name: str) -> list:
    """The documented path without a trailing slash, plus its slash spelling (no redirect)."""
    return [
        path(route, view.as_view(), name=name),
        path(f"{route}/", alias(view.as_view())),
    ]


urlpatterns: list = [
    path("api/v1/filters/validate", filters.FilterValidateView.as_view(), name="filter-validate"),
    *archera_route(f"{ORG}/filters", archera.SegmentFiltersView, "archera-filters"),
    *archera_route(ORG, archera.SegmentListView, "archera-segments"),
    *archera_route(
        f"{ORG}/{SEGMENT}/metrics/daily", archera.SegmentDailyMetricsView, "archera-segment-daily"
    ),
    *archera_route(f"{ORG}/{SEGMENT}", archera.SegmentDetailView, "archera-segment"),
    # Vantage: no trailing slash, as its clients call it.
    path("v2/segments", vantage.SegmentListView.as_view(), name="vantage-segments"),
    path(
        "v2/segments/<str:segment_token>",
        vantage.SegmentDetailView.as_view(),
        name="vantage-segment",
    ),
    path(
        "v2/segments/<str:segment_token>/costs",
        vantage.SegmentCostsView.as_view(),
        name="vantage-segment-costs",
    ),
]
