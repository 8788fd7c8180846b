from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from console import views as console_views
from core import views as core_views

# Each app owns its routes: ``<app>.api.urls`` (API, full paths) and ``<app>.urls`` (pages).
DOMAIN_APPS = [
    "organizations",
    "costs",
    "segments",
    "filter_segments",
    "metrics",
    "reports",
    "business",
    "virtual_tags",
    "alerts",
    "budgets",
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("health/", console_views.health, name="health"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.js", core_views.redoc_bundle, name="redoc-bundle"),
    path("", console_views.home, name="home"),
    path(
        "onboarding/segments/",
        console_views.onboarding_segment_create,
        name="onboarding-segment-create",
    ),
]
for app in DOMAIN_APPS:
    urlpatterns += [path("", include(f"{app}.api.urls")), path("", include(f"{app}.urls"))]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
