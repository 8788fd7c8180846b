from django.urls import path

from . import views

app_name = "metrics"

urlpatterns = [
    path("metrics/", views.MetricListView.as_view(), name="list"),
    path("metrics/new/", views.metric_create, name="create"),
    path("metrics/<str:pk>/", views.metric_detail, name="detail"),
    path("metrics/<str:pk>/archive/", views.metric_archive, name="archive"),
    path("events/", views.EventListView.as_view(), name="events"),
    path("customers/", views.CustomerListView.as_view(), name="customers"),
    path("customers/new/", views.customer_create, name="customer-create"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/families/new/", views.product_family_create, name="family-create"),
    path("products/new/", views.product_create, name="product-create"),
]
