"""Forms of the report pages, and the cost explorer's question read as a report."""

from __future__ import annotations

from datetime import date

from django import forms
from django.http import QueryDict

from core.errors import ServiceError
from segments.filter_tree import (
    Condition,
    FilterError,
    Group,
    TagCondition,
    from_json,
    parse_vql,
    render_vql,
    validate,
)
from segments.filter_tree.catalogue import EXISTS, IN
from segments.filter_tree.tree import AND, OR

from .costs import parse_groupings
from .models import ChartType, DateBin, DateInterval

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


class ReportEditForm(forms.Form):
    """A report's definition as a person edits it; the services check the rules (dates, bins,
    workspaces) and the filter language checks the filter."""

    title = forms.CharField(max_length=255, label="Title")
    filter = forms.CharField(
        required=False,
        label="Filter (VQL)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Empty: every cost row. Example: costs.provider = 'aws' AND costs.region = "
        "'us-east-1'",
    )
    groupings = forms.CharField(
        required=False, label="Group by", help_text="Comma-separated, e.g. provider,service"
    )
    folder = forms.ChoiceField(required=False, label="Folder")
    date_interval = forms.ChoiceField(label="Dates", choices=DateInterval.choices)
    start_date = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_bin = forms.ChoiceField(
        label="Bins", choices=[(b.value, b.label) for b in DateBin if b != DateBin.HOUR]
    )
    chart_type = forms.ChoiceField(label="Chart", choices=ChartType.choices)
    amortize = forms.BooleanField(required=False, label="Amortize (effective cost)")
    include_credits = forms.BooleanField(required=False, label="Include credits")
    include_refunds = forms.BooleanField(required=False, label="Include refunds")
    include_discounts = forms.BooleanField(required=False, label="Include discounts")
    include_tax = forms.BooleanField(required=False, label="Include tax")

    SETTINGS = (
        "amortize",
        "include_credits",
        "include_refunds",
        "include_discounts",
        "include_tax",
    )

    def __init__(self, *args, folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", "No folder")] + [
            (folder.token, folder.title) for folder in folders
        ]

    @classmethod
    def initial_of(cls, report) -> dict:
        return {
            "title": report.title,
            "filter": render_vql(from_json(report.filter_tree)) if report.filter_tree else "",
            "groupings": ",".join(report.groupings),
            "folder": report.folder.token if report.folder_id else "",
            "date_interval": report.date_interval,
            "start_date": report.start_date,
            "end_date": report.end_date,
            "date_bin": report.date_bin,
            "chart_type": report.chart_type,
            **{name: getattr(report, name) for name in cls.SETTINGS},
        }

    def clean_filter(self):
        text = self.cleaned_data["filter"]
        if not text.strip():
            return None
        try:
            return parse_vql(text, vantage_rules=False)
        except FilterError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_groupings(self):
        try:
            return parse_groupings(self.cleaned_data["groupings"])
        except ServiceError as error:
            raise forms.ValidationError(error.message) from None

    def changes(self, folders) -> dict:
        """The cleaned form as ``services.cost_report_update``'s keyword arguments."""
        data = self.cleaned_data
        changes = {name: data[name] for name in ("title", "groupings", "date_bin", "chart_type")}
        changes.update({name: data[name] for name in self.SETTINGS})
        changes["filter_tree"] = data["filter"]
        changes["folder"] = next((f for f in folders if f.token == data["folder"]), None)
        changes["date_interval"] = data["date_interval"]
        if data["date_interval"] == DateInterval.CUSTOM:
            changes["start_date"], changes["end_date"] = data["start_date"], data["end_date"]
        return changes


def explorer_query(report) -> str | None:
    """The cost explorer's URL query that asks the report's question, when the explorer can ask
    it: a filter of "any of these values" per field and tag, one grouping the explorer has, no
    saved filters, every charge counted. ``None`` otherwise (the report page then offers no
    explorer link)."""
    if report.saved_filters.exists() or (report.folder and report.folder.saved_filters.exists()):
        return None
    if len(report.groupings) > 1 or not all(getattr(report, name) for name in EVERY_CHARGE):
        return None  # the explorer counts every charge
    params = QueryDict(mutable=True)
    tree = from_json(report.filter_tree) if report.filter_tree else None
    parts = tree.children if isinstance(tree, Group) and tree.op == AND else [tree]
    by_field = {field: name for name, field in EXPLORER_FILTERS.items()}
    for part in parts:
        if part is None:
            continue
        tags = part.children if isinstance(part, Group) and part.op == OR else [part]
        if isinstance(part, Condition) and part.op == IN and part.field in by_field:
            params.setlist(by_field[part.field], list(part.values))
        elif all(
            isinstance(tag, TagCondition)
            and tag.key
            and (tag.op == EXISTS or (tag.op == IN and len(tag.values) == 1))
            for tag in tags
        ):
            params.setlist(
                "tag",
                [tag.key if tag.op == EXISTS else f"{tag.key}={tag.values[0]}" for tag in tags],
            )
        else:
            return None
    if report.groupings:
        grouping = report.groupings[0]
        by_grouping = {value: name for name, value in EXPLORER_GROUPINGS.items()}
        if grouping.startswith("tag:"):
            params["group_by"] = grouping
        elif grouping in by_grouping:
            params["group_by"] = by_grouping[grouping]
        else:
            return None
    if report.date_bin in (DateBin.DAY, DateBin.MONTH):
        params["granularity"] = report.date_bin
    if not report.amortize:
        params["metric"] = "billed_cost"
    if report.start_date:
        params["start"], params["end"] = report.start_date.isoformat(), report.end_date.isoformat()
    return params.urlencode()
