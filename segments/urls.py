from django.urls import path

from . import views

app_name = "segments"

urlpatterns = [
    path("segments/", views.SegmentListView.as_view(), name="list"),
    path("segments/new/", views.segment_create, name="create"),
    path("segments/filter-check/", views.segment_filter_check, name="filter-check"),
    path("segments/<uuid:pk>/", views.segment_detail, name="detail"),
    path("segments/<uuid:pk>/status/", views.segment_status, name="status"),
    path("segments/<uuid:pk>/edit/", views.segment_edit, name="edit"),
    path("segments/<uuid:pk>/delete/", views.segment_delete, name="delete"),
]
