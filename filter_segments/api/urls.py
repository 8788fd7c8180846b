from django.urls import path, re_path

from core.schema import alias

from . import views

listing = views.FilterSegmentListView.as_view()
detail = views.FilterSegmentDetailView.as_view()

# The seed spells the list with a trailing slash and a segment without; both spellings answer,
# neither redirects, and the document shows the seed's.
urlpatterns = [
    path("api/<str:account_id>/filter-segments/", listing, name="filter-segments"),
    re_path(
        r"^api/(?P<account_id>[^/]+)/filter-segments$", alias(views.FilterSegmentListView.as_view())
    ),
    path("api/<str:account_id>/filter-segments/<str:segment_id>", detail, name="filter-segment"),
    re_path(
        r"^api/(?P<account_id>[^/]+)/filter-segments/(?P<segment_id>[^/]+)/$",
        alias(views.FilterSegmentDetailView.as_view()),
    ),
]
