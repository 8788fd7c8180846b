from django.urls import path, re_path

from . import archera, filters, vantage

ORG = r"^beta/v1/org/(?P<org_id>[^/]+)/segments"
SEGMENT = r"(?P<segment_id>[0-9a-fA-F-]{36})"

urlpatterns: list = [
    path("api/v1/filters/validate", filters.FilterValidateView.as_view(), name="filter-validate"),
    # Archera: trailing slash optional, never redirected.
    re_path(rf"{ORG}/filters/?$", archera.SegmentFiltersView.as_view(), name="archera-filters"),
    re_path(rf"{ORG}/?$", archera.SegmentListView.as_view(), name="archera-segments"),
    re_path(
        rf"{ORG}/{SEGMENT}/metrics/daily/?$",
        archera.SegmentDailyMetricsView.as_view(),
        name="archera-segment-daily",
    ),
    re_path(rf"{ORG}/{SEGMENT}/?$", archera.SegmentDetailView.as_view(), name="archera-segment"),
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
