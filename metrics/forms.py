"""Forms of the metrics pages. They collect input; the services decide what is valid."""

import json

from django import forms

from .models import AggregationType, Rounding
from .selectors import customers, product_families, products

MATRIX_HELP = (
    "Optional JSON that splits usage by event properties. One dimension: "
    '{"key": "region", "values": ["eu", "us"]}. Two: "dimension1" and "dimension2", each such '
    'an object. Linked: "dimension_key": "cloud", "linked_dimension_key": "region" and '
    '"values" mapping each cloud to its regions, e.g. "aws": ["us-east-1"].'
)


class MetricForm(forms.Form):
    name = forms.CharField(max_length=255)
    code = forms.CharField(max_length=64, help_text="Events with this code feed the metric.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    product_family_id = forms.ChoiceField(label="Product family")
    product_id = forms.ChoiceField(label="Product", required=False)
    aggregation_type = forms.ChoiceField(choices=AggregationType.choices, label="Aggregation")
    aggregation_key = forms.CharField(
        required=False, help_text="The event property aggregated (not needed for COUNT)."
    )
    segmentation_matrix = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text=MATRIX_HELP
    )
    unit_conversion_factor = forms.DecimalField(
        required=False, label="Divide usage by", max_digits=30, decimal_places=12
    )
    unit_conversion_rounding = forms.ChoiceField(
        choices=Rounding.choices, required=False, label="then round"
    )
    usage_group_key = forms.CharField(
        required=False, help_text="Split usage by this property too (e.g. a resource id)."
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_family_id"].choices = [
            (family.pk, family.name) for family in product_families(organization)
        ]
        self.fields["product_id"].choices = [("", "—")] + [
            (product.pk, f"{product.family.name} / {product.name}")
            for product in products(organization)
        ]

    def clean_segmentation_matrix(self):
        text = self.cleaned_data["segmentation_matrix"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg}.") from error

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        factor = data.pop("unit_conversion_factor")
        rounding = data.pop("unit_conversion_rounding") or Rounding.NONE
        data["unit_conversion"] = (
            {"factor": factor, "rounding": rounding} if factor is not None else None
        )
        for name in ("aggregation_key", "usage_group_key", "product_id", "description"):
            data[name] = data[name] or None
        return data

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            target = {"unit_conversion": "unit_conversion_factor"}.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class UsageQueryForm(forms.Form):
    window = forms.ChoiceField(choices=[("day", "Day"), ("month", "Month")], required=False)
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.ChoiceField(required=False, label="Customer")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", "All customers")] + [
            (customer.pk, str(customer)) for customer in customers(organization)
        ]


class ProductFamilyForm(forms.Form):
    name = forms.CharField(max_length=255, label="Family name")
    description = forms.CharField(required=False)


class ProductForm(forms.Form):
    name = forms.CharField(max_length=255, label="Product name")
    product_family_id = forms.ChoiceField(label="Family")
    description = forms.CharField(required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_family_id"].choices = [
            (family.pk, family.name) for family in product_families(organization)
        ]


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=255)
    external_id = forms.CharField(max_length=255, label="External id")
    email = forms.EmailField(required=False)
