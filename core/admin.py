"""The admin's branding; each app registers its own models in its ``admin.py``."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import PROTECT, RESTRICT, SET_DEFAULT, SET_NULL
from django.utils.functional import cached_property

admin.site.site_header = "Costline administration"
admin.site.site_title = "Costline admin"
admin.site.index_title = "Organizations, cost data, segments and metering"
admin.site.site_url = "/"


# Relations whose rows outlive the deleted object (or block it): not counted as going along.
KEEPS_ROWS = {SET_NULL, SET_DEFAULT, PROTECT, RESTRICT}


def counted_deletion(model_admin, objs, request):
    """``get_deleted_objects`` that counts what goes along instead of listing each row.

    Django's confirmation page lists every object a delete cascades to; for an organization or
    an integration that is every cost row (seconds at demo size, minutes in production). This
    lists the objects being deleted and one line per directly owned model with its count.
    """
    from django.utils.text import capfirst

    objects = list(objs)
    model = model_admin.model
    owned = {}
    relations = model._meta.get_fields(include_hidden=True)  # hidden: related_name="+"
    for relation in relations:
        if not (relation.one_to_many and relation.auto_created):
            continue
        if relation.on_delete in KEEPS_ROWS:
            continue
        related = relation.related_model
        count = related._base_manager.filter(**{f"{relation.field.name}__in": objects}).count()
        if count:
            owned[related._meta] = count
    listed = [f"{capfirst(model._meta.verbose_name)}: {item}" for item in objects]
    summary = sorted(
        f"{count:,} {meta.verbose_name if count == 1 else meta.verbose_name_plural}"
        for meta, count in owned.items()
    )
    model_count = {
        model._meta.verbose_name_plural: len(objects),
        **{meta.verbose_name_plural: count for meta, count in owned.items()},
    }
    perms_needed = set() if model_admin.has_delete_permission(request) else {model.__name__}
    return [*listed, summary], model_count, perms_needed, []


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows (``COUNT(*)`` over a ``LIMIT``ed subquery), so the admin lists
    of the cost-row and usage-event tables stay fast at production size (hundreds of millions
    of rows): past the cap the list pages through the first ``cap`` rows of its filters."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap].count()
