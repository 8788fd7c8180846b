import django_filters

from .listing import list_page_urls
from .models import FilterSegment


class FilterSegmentFilterSet(django_filters.FilterSet):
    """The saved-views page's FilterSet."""

    name = django_filters.CharFilter(lookup_expr="icontains", label="Name")
    module = django_filters.ChoiceFilter(label="Page", choices=[])
    mine = django_filters.BooleanFilter(method="filter_mine", label="Created by me")

    class Meta:
        model = FilterSegment
        fields = ["name", "module", "mine"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["module"].extra["choices"] = [(m, m) for m in sorted(list_page_urls())]

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(created_by=self.request.user)
        return queryset
