import json

from django import forms

from costs.models import Provider

from .filter_tree import (
    FilterError,
    from_json,
    parse_structured,
    parse_vql,
    providers_of,
    render_vql,
    with_provider,
)
from .models import Segment


class SegmentFilterForm(forms.Form):
    """A segment's filter as the page edits it: the provider (the first, fixed condition; a
    child's comes from its parent), then VQL or the row builder's conditions.

    Saving (``SegmentForm``) and the live check of the row builder (``segment_filter_check``)
    both clean through here, so the check accepts exactly what saving accepts.
    """

    provider = forms.ChoiceField(
        choices=[("", "Any (from the filter)"), *Provider.choices], required=False
    )
    parent = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False)
    filter = forms.CharField(
        required=False,
        label="Filter (VQL)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    # The row builder's conditions, structured ([{field, op, value}]); used when given.
    rows = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, instance: Segment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Segment.objects.filter(organization=organization).order_by("name")
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents

    def clean(self):
        data = super().clean()
        parent = data.get("parent")
        # A child sees only its parent's rows: its provider is its parent's, whatever was sent.
        provider = (parent.provider if parent is not None else None) or data.get("provider")
        data["provider"] = provider or None
        if "filter" in self.errors or "rows" in self.errors:
            return data
        try:
            tree = self._parsed(data, provider)
            if provider:
                tree = with_provider(tree, provider)
        except FilterError as error:
            self.add_error("filter", str(error))
            return data
        if not provider and tree is not None:
            selected = providers_of(tree)
            data["provider"] = next(iter(selected)) if len(selected) == 1 else None
        data["tree"] = tree
        return data

    def _parsed(self, data: dict, provider: str | None):
        rows = data.get("rows")
        if rows:
            if not provider:
                raise FilterError(
                    "Choose the provider first: conditions are about one provider's costs.",
                    field="provider",
                )
            return parse_structured(rows, provider)
        text = (data.get("filter") or "").strip()
        # The page accepts what the Archera surface can store (e.g. LIKE on a service).
        return parse_vql(text, vantage_rules=False) if text else None

    def clean_rows(self):
        raw = self.cleaned_data.get("rows") or ""
        if not raw.strip():
            return None
        try:
            rows = json.loads(raw)
        except ValueError as error:
            raise forms.ValidationError("The conditions are not valid JSON.") from error
        return rows or None


class SegmentForm(SegmentFilterForm):
    """The page form; the filter is VQL (the row builder writes it)."""

    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    priority = forms.IntegerField(initial=100)
    track_unallocated = forms.BooleanField(required=False)
    include_credits = forms.BooleanField(required=False)
    include_refunds = forms.BooleanField(required=False)
    include_discounts = forms.BooleanField(required=False, initial=True)
    include_tax = forms.BooleanField(required=False, initial=True)
    amortize = forms.BooleanField(required=False, initial=True)

    field_order = ["name", "description", "provider", "parent", "priority", "track_unallocated"]
    report_fields = (
        "include_credits",
        "include_refunds",
        "include_discounts",
        "include_tax",
        "amortize",
    )

    def __init__(self, *args, organization, instance: Segment | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "provider": instance.provider or "",
                "parent": instance.parent_id,
                "priority": instance.priority,
                "track_unallocated": instance.track_unallocated,
                "filter": render_vql(from_json(instance.filter_tree))
                if instance.filter_tree
                else "",
                **{name: getattr(instance, name) for name in self.report_fields},
            }
        super().__init__(*args, organization=organization, instance=instance, **kwargs)

    def filter_arguments(self) -> dict:
        """``filter_tree`` and ``provider`` for ``segment_create`` / ``segment_update``."""
        return {"filter_tree": self.cleaned_data["tree"], "provider": self.cleaned_data["provider"]}

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {
            "name": data["name"],
            "description": data["description"],
            "parent": data["parent"],
            "priority": data["priority"],
            "track_unallocated": data["track_unallocated"],
        }
        if data["parent"] is None:
            arguments.update({name: data[name] for name in self.report_fields})
        return arguments
