"""The cost-row FilterSet, shared by the cost explorer page and ``GET /api/v1/costs``.

It validates the query parameters and compiles them to a ``selectors.CostFilter`` over the
columnar store (``CostRowFilter.cost_filter``).

Every dimension filter takes one or more values (``?service=A&service=B``: any of them). The
choices shown on the page come from the dimension-value table, never from a scan of cost rows;
values outside those choices are accepted and simply match nothing.
"""

from __future__ import annotations

import django_filters
from django import forms

from . import selectors
from .models import DimensionField, ImportJob, Integration, Provider


class AnyValueMultipleChoiceField(forms.MultipleChoiceField):
    """A multiple-choice field whose choices only feed the widget: any value is valid, and an
    empty value (``?service=``) means no filter."""

    def to_python(self, value) -> list[str]:
        return [item for item in super().to_python(value) if item != ""]

    def valid_value(self, value) -> bool:
        return True


class SelectSeveral(forms.SelectMultiple):
    """A multi-select on the page (Ctrl/⌘-click or tap several; none selected means all);
    it reads repeated query parameters, as API clients send them."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"size": 4, "class": "select-several", **(attrs or {})}, choices)


class ValuesFilter(django_filters.MultipleChoiceFilter):
    field_class = AnyValueMultipleChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", SelectSeveral)
        kwargs.setdefault("choices", [])
        super().__init__(*args, **kwargs)


# FilterSet field -> (dimension field feeding its choices, label)
DIMENSION_FILTERS = {
    "account": (DimensionField.ACCOUNT_ID, "Account"),
    "service": (DimensionField.SERVICE, "Service"),
    "region": (DimensionField.REGION, "Region"),
    "charge_category": (DimensionField.CHARGE_CATEGORY, "Charge category"),
    "service_category": (DimensionField.SERVICE_CATEGORY, "Service category"),
    "operating_system": (DimensionField.OPERATING_SYSTEM, "Operating system"),
    "tenancy": (DimensionField.TENANCY, "Tenancy"),
    "instance_family": (DimensionField.INSTANCE_FAMILY, "Instance family"),
}


class CostRowFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(
        field_name="charge_period_start",
        lookup_expr="gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = django_filters.DateFilter(
        field_name="charge_period_start",
        lookup_expr="lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    provider = ValuesFilter(field_name="provider", label="Provider", choices=Provider.choices)
    integration = ValuesFilter(field_name="integration_id", label="Integration")
    account = ValuesFilter(field_name="sub_account_id", label="Account")
    service = ValuesFilter(field_name="service_name", label="Service")
    region = ValuesFilter(field_name="region_id", label="Region")
    charge_category = ValuesFilter(field_name="charge_category", label="Charge category")
    service_category = ValuesFilter(field_name="service_category", label="Service category")
    operating_system = ValuesFilter(field_name="operating_system", label="Operating system")
    tenancy = ValuesFilter(field_name="tenancy", label="Tenancy")
    instance_family = ValuesFilter(field_name="instance_family", label="Instance family")
    tag = ValuesFilter(field_name="tags", label="Tag")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, organization=None):
        # The rows live in the columnar store, not in a queryset: this FilterSet validates the
        # query and compiles it (``cost_filter``); ``qs`` is never read.
        queryset = queryset if queryset is not None else Integration.objects.none()
        super().__init__(data, queryset, request=request, prefix=prefix)
        organization = organization or getattr(request, "organization", None)
        if organization is None:
            return
        choices = selectors.dimension_choices(organization)
        self.filters["integration"].extra["choices"] = choices["integration"]
        for name in DIMENSION_FILTERS:
            self.filters[name].extra["choices"] = choices[name]
        self.filters["tag"].extra["choices"] = choices["tag"]

    def cost_filter(self, organization) -> selectors.CostFilter:
        """The organization's cost rows these (valid) filters select, for the columnar store.

        The dates are not in it: they choose the window of the question (``cost_window``)."""
        costs = selectors.CostFilter(organization.pk)
        data = self.form.cleaned_data if self.is_bound else {}
        for name, definition in self.filters.items():
            values = data.get(name)
            if name in ("start", "end") or not values:
                continue
            if name == "tag":
                costs.any_tag(values)
            else:
                costs.any_of(definition.field_name, values)
        return costs


class IntegrationFilter(django_filters.FilterSet):
    provider = django_filters.ChoiceFilter(choices=Provider.choices, label="Provider")
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name")

    class Meta:
        model = Integration
        fields: list[str] = []


class ImportJobFilter(django_filters.FilterSet):
    integration = django_filters.ModelChoiceFilter(
        queryset=Integration.objects.none(), label="Integration"
    )
    status = django_filters.ChoiceFilter(choices=ImportJob.Status.choices, label="Status")

    class Meta:
        model = ImportJob
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        organization = getattr(request, "organization", None)
        if organization is not None:
            self.filters["integration"].queryset = Integration.objects.filter(
                organization=organization
            )
