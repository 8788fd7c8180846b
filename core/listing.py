"""The filter bar of list pages, independent of any app: the active filters of a bound FilterSet
as removable chips (predicates ``{type: filter name, id: value, label: chip text}``) and
accessible names for range inputs. The list-page base class that uses them, with tenancy and
saved views, is ``filter_segments.listing.FilteredListView``.
"""

from __future__ import annotations

from urllib.parse import urlencode


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
