"""Forms of the report pages, and the cost explorer's question read as a report."""

from __future__ import annotations

from datetime import date

from django import forms

from segments.filter_tree import Condition, Group, TagCondition, validate
from segments.filter_tree.catalogue import EXISTS, IN
from segments.filter_tree.tree import AND, OR

from .models import DateBin

# The explorer's filter parameters and the filter-tree field each one is.
EXPLORER_FILTERS = {
    "provider": "provider",
    "integration": "integration_id",
    "account": "account_id",
    "service": "service",
    "region": "region",
    "charge_category": "charge_type",
    "service_category": "category",
    "operating_system": "operating_system",
    "tenancy": "tenancy",
    "instance_family": "instance_family",
}
# The explorer's "group by" and the report grouping it is (others have no grouping).
EXPLORER_GROUPINGS = {
    "provider": "provider",
    "account": "account_id",
    "billing_account": "billing_account_id",
    "service": "service",
    "service_category": "cost_category",
    "region": "region",
    "charge_category": "charge_type",
}
EVERY_CHARGE = {
    "include_credits": True,
    "include_refunds": True,
    "include_discounts": True,
    "include_tax": True,
}


def report_from_explorer(query) -> dict:
    """The cost explorer's question (its URL's query) as report fields: the same rows (its
    filters as a filter tree), the same groups, period and bin, and every charge counted, as the
    explorer counts them. ``FilterError`` when the filters make no sense together."""
    conditions = []
    for name, field in EXPLORER_FILTERS.items():
        values = [value for value in query.getlist(name) if value]
        if values:
            conditions.append(Condition(field, IN, tuple(values)))
    tags = []
    for raw in query.getlist("tag"):
        key, separator, value = raw.partition("=")
        if key:
            tags.append(TagCondition(key, IN, (value,)) if separator else TagCondition(key, EXISTS))
    if tags:
        conditions.append(tags[0] if len(tags) == 1 else Group(OR, tuple(tags)))
    tree = None
    if conditions:
        tree = validate(conditions[0] if len(conditions) == 1 else Group(AND, tuple(conditions)))
    fields: dict = {"filter_tree": tree, **EVERY_CHARGE}
    group_by = query.get("group_by") or "service"
    if group_by.startswith("tag:"):
        fields["groupings"] = [group_by]
    elif group_by in EXPLORER_GROUPINGS:
        fields["groupings"] = [EXPLORER_GROUPINGS[group_by]]
    fields["date_bin"] = DateBin.DAY if query.get("granularity") == "day" else DateBin.MONTH
    fields["amortize"] = query.get("metric") != "billed_cost"
    try:
        start = date.fromisoformat(query.get("start", ""))
        end = date.fromisoformat(query.get("end", ""))
    except ValueError:
        start = end = None
    if start and end:
        fields["start_date"], fields["end_date"] = start, end
    return fields


class ReportSaveForm(forms.Form):
    title = forms.CharField(max_length=255, label="Report title")
    folder = forms.ChoiceField(required=False, label="Folder")

    def __init__(self, *args, folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", "No folder")] + [
            (folder.token, folder.title) for folder in folders
        ]


class FolderForm(forms.Form):
    title = forms.CharField(max_length=255, label="New folder")
