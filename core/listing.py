"""The list-page mechanism every server-rendered list uses.

A list page declares a django-filter FilterSet (the same one its API list uses) and a ``module``
key. The page then gets a filter bar, removable chips for the active filters, and the "Saved
views" menu of ``filter_segments``, which stores those chips as predicates
``{type: filter name, id: value, label: chip text}`` and restores them as the URL query.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import ListView

from filter_segments import selectors as saved_view_selectors
from organizations.selectors import membership


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
    cleaned = filterset.form.cleaned_data if filterset.form.is_valid() else {}
    for name, field in filterset.form.fields.items():
        if name in cleaned and cleaned[name] in (None, "", [], ()):
            continue  # e.g. a yes/no select left on "unknown"
        for raw in query.getlist(name):
            if raw in ("", None):
                continue
            label_name = field.label or name.replace("_", " ").capitalize()
            remaining = [
                (k, v)
                for k, values in query.lists()
                for v in values
                if not (k == name and v == raw) and k != "page"
            ]
            predicates.append(
                {
                    "type": name,
                    "id": raw,
                    "label": f"{label_name}: {_display_value(filterset, name, raw)}",
                    "remove_url": "?" + urlencode(remaining),
                }
            )
    return predicates


RANGE_PARTS = ("from", "to")


def label_range_inputs(form) -> None:
    """A range filter renders two inputs under one <label>, which names only the first; give
    each its own accessible name ("Timestamp from", "Timestamp to")."""
    for name, field in form.fields.items():
        widgets = getattr(field.widget, "widgets", None)
        if not widgets:
            continue
        label = field.label or name.replace("_", " ").capitalize()
        for widget, part in zip(widgets, RANGE_PARTS, strict=False):
            widget.attrs.setdefault("aria-label", f"{label} {part}")


class FilteredListView(LoginRequiredMixin, ListView):
    """Base class of list pages: FilterSet + filter bar + chips + saved views.

    Subclasses set ``filterset_class``, ``module`` and ``template_name`` and implement
    ``get_base_queryset(organization)``. Templates include ``includes/filter_bar.html``.
    """

    filterset_class = None
    module: str = ""
    paginate_by = 50
    # Query parameters that are not filters but belong to a saved view (e.g. "group_by").
    view_params: tuple[str, ...] = ()

    def get(self, request, *args, **kwargs):
        saved_view = request.GET.get("saved_view")
        if saved_view:
            return self.apply_saved_view(saved_view)
        return super().get(request, *args, **kwargs)

    def apply_saved_view(self, saved_view_id: str):
        """Restore a saved view: redirect to the query its predicates stand for."""
        found = (
            saved_view_selectors.filter_segments_for(self.get_organization(), self.module)
            .filter(pk=saved_view_id)
            .first()
        )
        if found is None:
            messages.error(self.request, "That saved view does not exist on this page.")
            return redirect(self.request.path)
        known = set(self.filterset_class.base_filters) | set(self.view_params)
        query, dropped = saved_view_selectors.restore_query(found.filters, known)
        if dropped:
            names = ", ".join(sorted({str(p.get("label") or p.get("type")) for p in dropped}))
            messages.warning(
                self.request,
                f"Saved view “{found.name}”: ignored filters this page no longer has: {names}.",
            )
        return redirect(f"{self.request.path}?{query}" if query else self.request.path)

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
        views = list(
            saved_view_selectors.filter_segments_for(organization, self.module).order_by("name")
        )
        member = membership(self.request.user, organization)
        for view in views:
            view.can_change = saved_view_selectors.may_change(self.request.user, view, member)
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
