"""The saved-views page: every saved view of the organization, with links that apply them."""

from organizations.selectors import membership

from . import selectors
from .filters import FilterSegmentFilterSet
from .listing import FilteredListView, list_page_urls


class SavedViewListView(FilteredListView):
    template_name = "filter_segments/saved_view_list.html"
    filterset_class = FilterSegmentFilterSet
    module = "saved_views"
    url_name = "filter_segments:list"

    def get_base_queryset(self, organization):
        return selectors.filter_segments_for(organization).order_by("module", "name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pages = list_page_urls()
        member = membership(self.request.user, context["organization"])
        context["rows"] = [
            {
                "view": view,
                "page_url": pages.get(view.module),
                "can_change": selectors.may_change(self.request.user, view, member),
            }
            for view in context["object_list"]
        ]
        return context
