"""Forms of the cost pages; ``CostQueryForm`` also validates the costs API's query parameters."""

from __future__ import annotations

from django import forms
from django.conf import settings

from .models import Integration, Provider
from .selectors import GRANULARITIES, GROUP_BY_COLUMNS, METRICS, TAG_GROUP_PREFIX

GROUP_BY_LABELS = {
    "provider": "Provider",
    "integration": "Integration",
    "account": "Account",
    "billing_account": "Billing account",
    "service": "Service",
    "service_category": "Service category",
    "region": "Region",
    "charge_category": "Charge category",
    "pricing_category": "Pricing category",
    "operating_system": "Operating system",
    "tenancy": "Tenancy",
    "instance_family": "Instance family",
}
MAX_SERIES = 50


class CostQueryForm(forms.Form):
    """How to aggregate: ``group_by`` a dimension or ``tag:<key>``, per day or month."""

    group_by = forms.CharField(
        required=False,
        max_length=300,
        help_text=f"One of {', '.join(GROUP_BY_COLUMNS)}, or tag:<key>.",
    )
    granularity = forms.ChoiceField(
        required=False, choices=[(value, value.capitalize()) for value in GRANULARITIES]
    )
    metric = forms.ChoiceField(
        required=False,
        choices=[(value, value.replace("_", " ").capitalize()) for value in METRICS],
    )
    limit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_SERIES,
        help_text="How many groups get their own chart series; the rest are summed as (others).",
    )

    def clean_group_by(self) -> str:
        value = (self.cleaned_data.get("group_by") or "service").strip()
        if value in GROUP_BY_COLUMNS:
            return value
        if value.startswith(TAG_GROUP_PREFIX) and value[len(TAG_GROUP_PREFIX) :].strip():
            return value
        choices = ", ".join(GROUP_BY_COLUMNS)
        raise forms.ValidationError(
            f"Unknown grouping '{value[:60]}'; use one of {choices} or tag:<key>."
        )

    def clean_granularity(self) -> str:
        return self.cleaned_data.get("granularity") or "day"

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or "effective_cost"

    def clean_limit(self) -> int:
        return self.cleaned_data.get("limit") or 10


class ImportUploadForm(forms.Form):
    """Upload a FOCUS file into one of the organization's integrations."""

    integration = forms.ModelChoiceField(queryset=Integration.objects.none())
    file = forms.FileField(help_text="FOCUS 1.2/1.3 cost and usage export: CSV, CSV.gz or Parquet.")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = Integration.objects.filter(organization=organization)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_IMPORT_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.MAX_IMPORT_UPLOAD_BYTES:,} bytes."
            )
        return upload


class IntegrationForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    name = forms.CharField(max_length=200, required=False)
