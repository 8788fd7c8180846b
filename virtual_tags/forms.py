"""The virtual tag editor: the config's fields and one row per value, as Vantage's shapes.

The forms only turn what a person typed into the API's body (``ConfigForm.definition``); the
checks are the services' (``services.checked_definition``), so a page and the API refuse the
same things with the same words.
"""

from __future__ import annotations

from django import forms

from business.models import BusinessMetric

KINDS = [
    ("name", "Name"),
    ("percentages", "Split by percentages"),
    ("business_metric", "Split by a business metric"),
    ("cost_metric", "Split in proportion to other costs"),
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ConfigForm(forms.Form):
    key = forms.CharField(max_length=255, help_text="The tag key, e.g. Cost Center.")
    overridable = forms.BooleanField(
        required=False,
        label="Override provider tags",
        help_text="When set, this tag's values win over a provider tag of the same key.",
    )
    backfill_until = forms.DateField(
        label="Apply from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Costs before this month keep their tags as they are.",
    )
    collapsed_tag_keys = forms.CharField(
        required=False,
        label="Collapse these tag keys into it",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: a key, optionally followed by “: aws, gcp” (those providers "
        "only) or “| VQL filter”. E.g. cost-center: gcp",
    )

    def collapsed(self) -> list[dict]:
        items = []
        for line in _lines(self.cleaned_data.get("collapsed_tag_keys", "")):
            if "|" in line:
                key, vql = (part.strip() for part in line.split("|", 1))
                items.append({"key": key, "providers": [], "filter": vql or None})
            elif ":" in line:
                key, providers = (part.strip() for part in line.split(":", 1))
                names = [name.strip() for name in providers.split(",") if name.strip()]
                items.append({"key": key, "providers": names, "filter": None})
            else:
                items.append({"key": line, "providers": [], "filter": None})
        return items

    @staticmethod
    def initial_of(config) -> dict:
        lines = []
        for item in config.collapsed_tag_keys:
            if item.get("filter"):
                lines.append(f"{item['key']} | {item['filter']}")
            elif item.get("providers"):
                lines.append(f"{item['key']}: {', '.join(item['providers'])}")
            else:
                lines.append(item["key"])
        return {
            "key": config.key,
            "overridable": config.overridable,
            "backfill_until": config.backfill_until,
            "collapsed_tag_keys": "\n".join(lines),
        }


class ValueForm(forms.Form):
    token = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=KINDS, label="Value")
    filter = forms.CharField(
        required=False,
        label="Costs (VQL)",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. costs.provider = 'aws' AND costs.service = 'AmazonS3' (empty: all)",
    )
    name = forms.CharField(required=False, max_length=255, label="Name")
    percentages = forms.CharField(
        required=False,
        label="Percentages",
        help_text="value=pct, one per line or comma-separated: Data=60, Web=40",
    )
    business_metric = forms.ChoiceField(required=False, label="Business metric")
    label_values = forms.CharField(
        required=False, label="Labels", help_text="Comma-separated; empty: every label."
    )
    cost_metric_filter = forms.CharField(required=False, label="Shares from costs (VQL)")
    cost_metric_tag = forms.CharField(required=False, label="…by the values of tag")
    start_date = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, metrics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_metric"].choices = [("", "—")] + [
            (metric.token, metric.title) for metric in metrics
        ]

    def value(self) -> dict | None:
        """The value in Vantage's shape (None for a blank row)."""
        data = self.cleaned_data
        kind = data.get("kind")
        if not any(
            data.get(name)
            for name in ("filter", "name", "percentages", "business_metric", "cost_metric_tag")
        ):
            return None
        value: dict = {"filter": data.get("filter") or ""}
        if data.get("token"):
            value["token"] = data["token"]
        if kind == "name":
            value["name"] = data.get("name")
        elif kind == "percentages":
            value["percentages"] = _percentages(data.get("percentages", ""))
        elif kind == "business_metric":
            value["business_metric_token"] = data.get("business_metric")
            labels = [label.strip() for label in data.get("label_values", "").split(",")]
            value["label_values"] = [label for label in labels if label]
        else:
            value["cost_metric"] = {
                "filter": data.get("cost_metric_filter") or "",
                "aggregation": {"tag": data.get("cost_metric_tag")},
            }
        if data.get("start_date") or data.get("end_date"):
            value["date_ranges"] = [
                {
                    "start_date": data["start_date"].isoformat()
                    if data.get("start_date")
                    else None,
                    "end_date": data["end_date"].isoformat() if data.get("end_date") else None,
                }
            ]
        return value

    @staticmethod
    def initial_of(value: dict) -> dict:
        initial = {"token": value["token"], "filter": value.get("filter") or ""}
        if value.get("percentages"):
            initial["kind"] = "percentages"
            initial["percentages"] = ", ".join(
                f"{item['value']}={item['pct']:g}" for item in value["percentages"]
            )
        elif value.get("business_metric_token"):
            initial["kind"] = "business_metric"
            initial["business_metric"] = value["business_metric_token"]
            initial["label_values"] = ", ".join(value.get("label_values") or [])
        elif value.get("cost_metric"):
            initial["kind"] = "cost_metric"
            initial["cost_metric_filter"] = value["cost_metric"].get("filter") or ""
            initial["cost_metric_tag"] = value["cost_metric"]["aggregation"]["tag"]
        else:
            initial["kind"] = "name"
            initial["name"] = value.get("name") or ""
        ranges = value.get("date_ranges") or []
        if ranges:
            initial["start_date"] = ranges[0].get("start_date")
            initial["end_date"] = ranges[0].get("end_date")
        return initial


def _percentages(text: str) -> list[dict]:
    items = []
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        value, _, pct = part.rpartition("=")
        items.append({"value": value.strip(), "pct": pct.strip()})
    return items


ValueFormSet = forms.formset_factory(ValueForm, extra=2, can_delete=True)


def value_formset(organization, data=None, values=()):
    metrics = BusinessMetric.objects.filter(organization=organization).order_by("title")
    return ValueFormSet(
        data,
        prefix="values",
        initial=[ValueForm.initial_of(value) for value in values],
        form_kwargs={"metrics": metrics},
    )
