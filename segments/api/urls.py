from django.urls import path

from . import filters

urlpatterns: list = [
    path("api/v1/filters/validate", filters.FilterValidateView.as_view(), name="filter-validate"),
]
