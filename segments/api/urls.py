from django.urls import path

from core.routes import optional_slash

from . import archera, filters, vantage

ORG = "beta/v1/org/<str:org_id>/segments"
SEGMENT = "<uuid:segment_id>"

urlpatterns: list = [
    path("api/v1/filters/validate", filters.FilterValidateView.as_view(), name="filter-validate"),
    # Archera: documented without a trailing slash; the slash spelling answers too (no redirect).
    *optional_slash(f"{ORG}/filters", archera.SegmentFiltersView, "archera-filters"),
    *optional_slash(ORG, archera.SegmentListView, "archera-segments"),
    *optional_slash(
        f"{ORG}/{SEGMENT}/metrics/daily", archera.SegmentDailyMetricsView, "archera-segment-daily"
    ),
    *optional_slash(f"{ORG}/{SEGMENT}", archera.SegmentDetailView, "archera-segment"),
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
    path(
        "v2/segments/<str:segment_token>/history",
        vantage.SegmentHistoryView.as_view(),
        name="vantage-segment-history",
    ),
]
