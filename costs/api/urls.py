"""API routes of the cost data; a trailing slash is optional (no redirect either way)."""

from core.routes import optional_slash

from . import sources, views

UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
INTEGRATION = rf"integrations/(?P<integration_id>{UUID})"


def route(pattern: str, view, name: str) -> list:
    return optional_slash(rf"^api/v1/{pattern}", view, name)


urlpatterns = [
    *route("integrations", views.IntegrationListView, "api-integrations"),
    *route(f"integrations/(?P<pk>{UUID})", views.IntegrationDetailView, "api-integration"),
    *route(f"{INTEGRATION}/imports", views.ImportJobListView, "api-integration-imports"),
    *route(
        f"{INTEGRATION}/imports/(?P<job_id>{UUID})", views.ImportJobDetailView, "api-import-job"
    ),
    *route(f"{INTEGRATION}/sync", sources.IntegrationSyncView, "api-integration-sync"),
    *route(f"{INTEGRATION}/test", sources.IntegrationTestView, "api-integration-test"),
    *route("costs", views.CostsView, "api-costs"),
]
