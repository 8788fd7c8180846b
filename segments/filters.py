"""The segment list's FilterSet (page list)."""

import django_filters

from costs.models import Provider

from .models import Segment, Status


class SegmentFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name")
    provider = django_filters.ChoiceFilter(choices=Provider.choices, label="Provider")
    status = django_filters.ChoiceFilter(choices=Status.choices, label="Status")
    is_system_generated = django_filters.BooleanFilter(label="System")

    class Meta:
        model = Segment
        fields = ["name", "provider", "status", "is_system_generated"]
