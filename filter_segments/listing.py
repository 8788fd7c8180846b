"""The list-page mechanism every server-rendered list uses, and the registry of list pages.

A list page declares a django-filter FilterSet (the same one its API list uses), a ``module`` key
and its ``url_name``. The page then gets a filter bar, removable chips for the active filters
(``core.listing``), the tenancy of every page (``organizations.pages``), and the "Saved views"
menu, which stores those chips as predicates ``{type: filter name, id: value, label: chip
text}`` and restores them as the URL query.

Every subclass that declares a ``module`` registers itself here when its module is imported
(as NetBox's views register themselves); the saved-views page reads ``list_pages()`` and
``list_page_urls()`` instead of searching the URLconf. This app knows no domain app: the domain
apps' pages build on it.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import ListView

from core.listing import active_filters, label_range_inputs
from organizations.pages import OrganizationPageMixin
from organizations.selectors import membership

from . import selectors

_list_pages: dict[str, type[FilteredListView]] = {}


def register_list_page(page: type[FilteredListView]) -> type[FilteredListView]:
    """Add a list page to the registry under its ``module`` (done by ``FilteredListView``)."""
    if not page.url_name:
        raise ImproperlyConfigured(f"{page.__qualname__} declares a module but no url_name.")
    known = _list_pages.get(page.module)
    if known is not None and known.__qualname__ != page.__qualname__:
        raise ImproperlyConfigured(
            f"Two list pages for module {page.module!r}: {known.__qualname__}, {page.__qualname__}."
        )
    _list_pages[page.module] = page
    return page


def list_pages() -> dict[str, type[FilteredListView]]:
    """``{module: list page class}`` of every registered list page."""
    import_module(settings.ROOT_URLCONF)  # it imports every page module: all have registered
    return dict(_list_pages)


def list_page_urls() -> dict[str, str]:
    """``{module: URL}`` of every list page: where a saved view of that module is applied."""
    return {module: reverse(page.url_name) for module, page in list_pages().items()}


class FilteredListView(OrganizationPageMixin, LoginRequiredMixin, ListView):
    """Base class of list pages: FilterSet + filter bar + chips + saved views.

    Subclasses set ``filterset_class``, ``module``, ``url_name`` and ``template_name`` and
    implement ``get_base_queryset(organization)``. Templates include
    ``includes/filter_bar.html``. A class that declares a ``module`` registers itself as that
    module's list page (see ``list_pages``).
    """

    filterset_class = None
    module: str = ""
    # The page's URL name ("costs:imports"): where the saved views of ``module`` are applied.
    url_name: str = ""
    paginate_by = 50
    # Query parameters that are not filters but belong to a saved view (e.g. "group_by").
    view_params: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "module" in cls.__dict__ and cls.module:
            register_list_page(cls)

    def get(self, request, *args, **kwargs):
        saved_view = request.GET.get("saved_view")
        if saved_view:
            return self.apply_saved_view(saved_view)
        return super().get(request, *args, **kwargs)

    def apply_saved_view(self, saved_view_id: str):
        """Restore a saved view: redirect to the query its predicates stand for."""
        found = (
            selectors.filter_segments_for(self.get_organization(), self.module)
            .filter(pk=saved_view_id)
            .first()
        )
        if found is None:
            messages.error(self.request, "That saved view does not exist on this page.")
            return redirect(self.request.path)
        known = set(self.filterset_class.base_filters) | set(self.view_params)
        query, dropped = selectors.restore_query(found.filters, known)
        if dropped:
            names = ", ".join(sorted({str(p.get("label") or p.get("type")) for p in dropped}))
            messages.warning(
                self.request,
                f"Saved view “{found.name}”: ignored filters this page no longer has: {names}.",
            )
        return redirect(f"{self.request.path}?{query}" if query else self.request.path)

    def get_base_queryset(self, organization):
        raise NotImplementedError

    def get_filterset(self):
        if not hasattr(self, "_filterset"):
            self._filterset = self.filterset_class(
                self.request.GET or None,
                queryset=self.get_base_queryset(self.get_organization()),
                request=self.request,
            )
            # Ids of their own: a page's create form may have fields of the same names.
            self._filterset.form.auto_id = "filter_%s"
            label_range_inputs(self._filterset.form)
        return self._filterset

    def get_queryset(self):
        filterset = self.get_filterset()
        if filterset.is_bound and not filterset.is_valid():
            return filterset.queryset.none()
        return filterset.qs

    def _view_param_predicates(self) -> list[dict]:
        return [
            {"type": name, "id": value, "label": f"{name.replace('_', ' ').capitalize()}: {value}"}
            for name in self.view_params
            for value in self.request.GET.getlist(name)
            if value
        ]

    def _saved_views(self) -> list:
        """This page's saved views, each marked with whether the user may change it."""
        organization = self.get_organization()
        views = list(selectors.filter_segments_for(organization, self.module).order_by("name"))
        member = membership(self.request.user, organization)
        for view in views:
            view.can_change = selectors.may_change(self.request.user, view, member)
        return views

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        query = self.request.GET.copy()
        query.pop("page", None)
        chips = active_filters(filterset, self.request.GET) if filterset.is_bound else []
        predicates = chips + self._view_param_predicates()
        context.update(
            {
                "saved_views": self._saved_views(),
                "saved_view_predicates": [
                    {key: p[key] for key in ("type", "id", "label")} for p in predicates
                ],
                "filterset": filterset,
                "filter_form": filterset.form,
                "active_filters": chips,
                "saved_views_module": self.module,
                "query_without_page": query.urlencode(),
                "organization": self.get_organization(),
            }
        )
        return context
