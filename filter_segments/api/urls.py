from django.urls import re_path

from . import views

ACCOUNT = r"^api/(?P<account_id>[^/]+)/filter-segments"

# Trailing slash optional on both paths, never redirected (the seed uses both spellings).
urlpatterns = [
    re_path(rf"{ACCOUNT}/?$", views.FilterSegmentListView.as_view(), name="filter-segments"),
    re_path(
        rf"{ACCOUNT}/(?P<segment_id>[^/]+)/?$",
        views.FilterSegmentDetailView.as_view(),
        name="filter-segment",
    ),
]
