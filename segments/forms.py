from django import forms

from costs.models import Provider

from .filter_tree import FilterError, from_json, parse_vql, render_vql
from .models import Segment


class SegmentForm(forms.Form):
    """The page form; the filter is VQL (the row builder writes it)."""

    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    provider = forms.ChoiceField(
        choices=[("", "Any (from the filter)"), *Provider.choices], required=False
    )
    parent = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False)
    priority = forms.IntegerField(initial=100)
    track_unallocated = forms.BooleanField(required=False)
    filter = forms.CharField(
        required=False,
        label="Filter (VQL)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    include_credits = forms.BooleanField(required=False)
    include_refunds = forms.BooleanField(required=False)
    include_discounts = forms.BooleanField(required=False, initial=True)
    include_tax = forms.BooleanField(required=False, initial=True)
    amortize = forms.BooleanField(required=False, initial=True)

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
        super().__init__(*args, **kwargs)
        parents = Segment.objects.filter(organization=organization).order_by("name")
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents

    def clean_filter(self):
        text = self.cleaned_data["filter"].strip()
        if not text:
            return None
        try:
            # The page accepts what the Archera surface can store (e.g. LIKE on a service).
            return parse_vql(text, vantage_rules=False)
        except FilterError as error:
            raise forms.ValidationError(str(error)) from error

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
