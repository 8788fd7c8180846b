"""The list-page mechanism every server-rendered list uses.

A list page declares a django-filter FilterSet (the same one its API list uses) and a ``module``
key. The page then gets a filter bar, removable chips for the active filters, and the "Saved
views" menu of ``filter_segments``, which stores those chips as predicates
``{type: filter name, id: value, label: chip text}`` and restores them as the URL query.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import ListView


def _display_value(filterset, name: str, raw: str) -> str:
    field = filterset.form.fields.get(name)
    choices = getattr(field, "choices", None)
    if choices:
        for value, label in choices:
            if str(value) == raw:
                return str(label)
    queryset = getattr(field, "queryset", None)
    if queryset is not None:
        found = queryset.filter(pk=raw).first() if raw else None
        if found is not None:
            return str(found)
    return raw


def active_filters(filterset, query) -> list[dict]:
    """The active filters of a bound FilterSet as predicates, each with the URL that drops it."""
    predicates = []
    for name, field in filterset.form.fields.items():
        for raw in query.getlist(name):
            if raw in ("", None):
                continue
            label_name = field.label or name.replace("_", " ").capitalize()
            remaining = [(k, v) for k, values in query.lists() for v in values
                         if not (k == name and v == raw) and k != "page"]
            predicates.append(
                {
                    "type": name,
                    "id": raw,
                    "label": f"{label_name}: {_display_value(filterset, name, raw)}",
                    "remove_url": "?" + urlencode(remaining),
                }
            )
    return predicates


class FilteredListView(LoginRequiredMixin, ListView):
    """Base class of list pages: FilterSet + filter bar + chips + saved views.

    Subclasses set ``filterset_class``, ``module`` and ``template_name`` and implement
    ``get_base_queryset(organization)``. Templates include ``includes/filter_bar.html``.
    """

    filterset_class = None
    module: str = ""
    paginate_by = 50

    def get_organization(self):
        organization = getattr(self.request, "organization", None)
        if not organization:
            raise Http404("You are not a member of any organization.")
        return organization

    def get_base_queryset(self, organization):
        raise NotImplementedError

    def get_filterset(self):
        if not hasattr(self, "_filterset"):
            self._filterset = self.filterset_class(
                self.request.GET or None,
                queryset=self.get_base_queryset(self.get_organization()),
                request=self.request,
            )
        return self._filterset

    def get_queryset(self):
        filterset = self.get_filterset()
        if filterset.is_bound and not filterset.is_valid():
            return filterset.queryset.none()
        return filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "filterset": filterset,
                "filter_form": filterset.form,
                "active_filters": active_filters(filterset, self.request.GET)
                if filterset.is_bound
                else [],
                "saved_views_module": self.module,
                "query_without_page": query.urlencode(),
                "organization": self.get_organization(),
            }
        )
        return context
