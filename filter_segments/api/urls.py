from core.routes import optional_slash

from . import views

ACCOUNT = "api/<str:account_id>/filter-segments"

# The seed spells the list with a trailing slash and a segment without; both spellings answer,
# neither redirects, and the document shows the seed's.
urlpatterns = [
    *optional_slash(ACCOUNT, views.FilterSegmentListView, "filter-segments", slash=True),
    *optional_slash(f"{ACCOUNT}/<str:segment_id>", views.FilterSegmentDetailView, "filter-segment"),
]
