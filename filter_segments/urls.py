from django.urls import path

from . import views

app_name = "filter_segments"

urlpatterns = [
    path("saved-views/", views.SavedViewListView.as_view(), name="list"),
]
