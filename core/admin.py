"""The admin's branding; each app registers its own models in its ``admin.py``."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import PROTECT, RESTRICT, SET_DEFAULT, SET_NULL
from django.http import Http404
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

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


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin (who changed what, when), whose history pages answer 404,
    not a server error, to ids that cannot be ids."""

    def _check_ids(self, object_id, version_id=None) -> None:
        try:
            self.model._meta.pk.to_python(object_id)
            if version_id is not None:
                int(version_id)
        except (ValueError, ValidationError):
            raise Http404("No such object.") from None

    def history_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_ids(object_id, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)
