from django.urls import path

from . import vantage

urlpatterns = [
    path("v2/ping", vantage.PingView.as_view(), name="vantage-ping"),
    path("v2/me", vantage.MeView.as_view(), name="vantage-me"),
    path("v2/workspaces", vantage.WorkspaceListView.as_view(), name="vantage-workspaces"),
    path(
        "v2/workspaces/<str:workspace_token>",
        vantage.WorkspaceDetailView.as_view(),
        name="vantage-workspace",
    ),
]
