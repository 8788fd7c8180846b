"""FilterSets of the metrics lists; each serves both its page and its API list."""

import django_filters
from django import forms
from django.db.models import Q

from organizations import selectors as org_selectors

from .models import BillableMetric, Customer, Product, ProductFamily, UsageEvent


def _organization(request):
    """The organization a request acts on: a token's own, else the signed-in user's current."""
    if request is None:
        return None
    token = org_selectors.request_token(request)
    if token is not None:
        return token.organization
    return getattr(request, "organization", None)


def _families(request):
    return ProductFamily.objects.filter(organization=_organization(request))


def _products(request):
    return Product.objects.filter(organization=_organization(request))


class SearchMixin:
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        if not value:
            return queryset
        condition = Q()
        for field_name in self.search_fields:
            condition |= Q(**{f"{field_name}__icontains": value})
        return queryset.filter(condition)


class ProductFamilyFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "id")
    search = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = ProductFamily
        fields: list = []


class ProductFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "id")
    search = django_filters.CharFilter(method="search", label="Search")
    product_family_id = django_filters.ModelChoiceFilter(
        field_name="family", queryset=_families, label="Product family"
    )

    class Meta:
        model = Product
        fields: list = []


class CustomerFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "external_id", "id", "email")
    search = django_filters.CharFilter(method="search", label="Search")
    external_id = django_filters.CharFilter(label="External id")

    class Meta:
        model = Customer
        fields: list = []


class MetricFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "code", "id")
    search = django_filters.CharFilter(method="search", label="Search")
    product_family_id = django_filters.ModelChoiceFilter(
        field_name="product_family", queryset=_families, label="Product family"
    )
    product_id = django_filters.ModelChoiceFilter(
        field_name="product", queryset=_products, label="Product"
    )
    archived = django_filters.BooleanFilter(
        field_name="archived_at",
        lookup_expr="isnull",
        exclude=True,
        label="Archived",
        widget=forms.Select(choices=[("", "Any"), ("false", "Active"), ("true", "Archived")]),
    )
    aggregation_type = django_filters.ChoiceFilter(
        choices=BillableMetric._meta.get_field("aggregation_type").choices, label="Aggregation"
    )

    class Meta:
        model = BillableMetric
        fields: list = []


class EventFilter(django_filters.FilterSet):
    customer_id = django_filters.CharFilter(method="by_customer", label="Customer")
    code = django_filters.CharFilter(label="Code")
    timestamp = django_filters.IsoDateTimeFromToRangeFilter(
        label="Time",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = UsageEvent
        fields: list = []

    def by_customer(self, queryset, name, value):
        """Our ``cus_…`` id or the customer's external id."""
        if not value:
            return queryset
        return queryset.filter(Q(customer_id=value) | Q(customer__external_id=value))
