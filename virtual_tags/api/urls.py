"""API routes of virtual tags (Vantage: no trailing slash, as its clients call it)."""

from django.urls import path

from . import vantage

urlpatterns = [
    path("v2/virtual_tag_configs", vantage.ConfigListView.as_view(), name="vantage-vtags"),
    path(
        "v2/virtual_tag_configs/preview",
        vantage.PreviewView.as_view(),
        name="vantage-vtag-preview",
    ),
    path(
        "v2/virtual_tag_configs/async/<str:request_id>",
        vantage.AsyncStatusView.as_view(),
        name="vantage-vtag-async-status",
    ),
    path(
        "v2/virtual_tag_configs/<str:token>",
        vantage.ConfigDetailView.as_view(),
        name="vantage-vtag",
    ),
    path(
        "v2/virtual_tag_configs/<str:token>/status",
        vantage.ConfigStatusView.as_view(),
        name="vantage-vtag-status",
    ),
    path(
        "v2/virtual_tag_configs/<str:token>/async",
        vantage.ConfigAsyncUpdateView.as_view(),
        name="vantage-vtag-async",
    ),
    path(
        "v2/virtual_tag_configs/<str:token>/history",
        vantage.ConfigHistoryView.as_view(),
        name="vantage-vtag-history",
    ),
    path(
        "v2/virtual_tag_configs/<str:virtual_tag_config_token>/values",
        vantage.ValueListView.as_view(),
        name="vantage-vtag-values",
    ),
    path(
        "v2/virtual_tag_configs/<str:virtual_tag_config_token>/values/"
        "<str:virtual_tag_config_value_token>",
        vantage.ValueDetailView.as_view(),
        name="vantage-vtag-value",
    ),
]
