"""Pages of virtual tags."""

from django.urls import path

from . import views

app_name = "virtual_tags"

urlpatterns = [
    path("virtual-tags/", views.config_list, name="list"),
    path("virtual-tags/new/", views.config_edit, name="create"),
    path("virtual-tags/<str:token>/", views.config_detail, name="detail"),
    path("virtual-tags/<str:token>/edit/", views.config_edit, name="edit"),
    path("virtual-tags/<str:token>/delete/", views.config_delete, name="delete"),
]
