import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from core.admin import HistoryAdmin
from core.errors import ServiceError

from . import selectors, services
from .filter_tree import from_json, render_structured, render_vql
from .models import Segment, SegmentMetric
from .services import REPORT_SETTINGS


class ChildInline(admin.TabularInline):
    model = Segment
    fk_name = "parent"
    fields = ["name", "token", "priority", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class MetricInline(admin.TabularInline):
    model = SegmentMetric
    fields = [
        "line",
        "granularity",
        "period_start",
        "charge_kind",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "committed_cost",
        "usage_quantity",
        "resource_count",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).filter(granularity="month")


# Service error fields (API spellings) to the admin form's fields.
FIELD_NAMES = {"parent_segment_token": "parent", "workspace_token": "workspace", "name": "name"}
EDITABLE_HERE = [
    "name",
    "description",
    "workspace",
    "parent",
    "priority",
    "track_unallocated",
    *REPORT_SETTINGS,
]


class SegmentAdminForm(forms.ModelForm):
    """Edits go through the same checks as every surface (cycles, foreign parents, report
    settings only on top-level segments)."""

    class Meta:
        model = Segment
        fields = EDITABLE_HERE

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            values = {name: cleaned[name] for name in self.changed_data if name in cleaned}
            try:
                services.segment_validate(Segment.objects.get(pk=self.instance.pk), values)
            except ServiceError as error:
                field = FIELD_NAMES.get(error.field) if error.field else None
                raise ValidationError({field: error.message} if field else error.message) from None
        return cleaned


@admin.register(Segment)
class SegmentAdmin(HistoryAdmin):
    """Segments in tree order (each tree together, children in allocation order). Created
    through the pages and APIs; here they are inspected, tidied and recomputed."""

    form = SegmentAdminForm
    list_display = [
        "tree_name",
        "token",
        "provider",
        "status",
        "parent",
        "priority",
        "is_system_generated",
        "workspace",
        "organization",
    ]
    list_filter = ["provider", "status", "is_system_generated", "organization"]
    search_fields = ["name", "token", "id", "organization__name"]
    list_select_related = ["parent", "workspace", "organization"]
    ordering = ["organization__name", "organization_id", "tree_path"]
    fields = [
        *EDITABLE_HERE[:2],
        "organization",
        *EDITABLE_HERE[2:],
        "provider",
        "filter_vql",
        "filter_structured",
        "id",
        "token",
        "report_token",
        "status",
        "status_reason",
        "is_system_generated",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "organization",
        "provider",
        "filter_vql",
        "filter_structured",
        "id",
        "token",
        "report_token",
        "status",
        "status_reason",
        "is_system_generated",
        "created_by",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["parent", "workspace"]
    inlines = [ChildInline, MetricInline]
    actions = ["recompute_metrics"]

    @admin.display(description="name", ordering="tree_path")
    def tree_name(self, segment: Segment) -> str:
        depth = max(segment.tree_path.count("/") - 1, 0)
        return format_html("{}{}", "\u2014 " * depth, segment.name)

    @admin.display(description="filter (VQL)")
    def filter_vql(self, segment: Segment) -> str:
        return render_vql(from_json(segment.filter_tree)) if segment.filter_tree else "-"

    @admin.display(description="filter (structured)")
    def filter_structured(self, segment: Segment) -> str:
        if not segment.filter_tree:
            return "-"
        return json.dumps(render_structured(from_json(segment.filter_tree)))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_system_generated:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_system_generated:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        services.segment_update(obj, **values)

    def delete_model(self, request, obj):
        services.segment_delete(obj)

    def delete_queryset(self, request, queryset):
        # Deepest first, so a parent deleted in the same batch does not take a child twice.
        for segment in sorted(queryset, key=lambda s: s.tree_path, reverse=True):
            if segment.is_system_generated:
                messages.error(request, f"'{segment}' is system-generated and was kept.")
                continue
            if Segment.objects.filter(pk=segment.pk).exists():
                services.segment_delete(segment)

    @admin.action(description="Recompute metrics")
    def recompute_metrics(self, request, queryset):
        tops = {selectors.top_level(segment).pk for segment in queryset}
        failed = 0
        for top_id in tops:
            try:
                services.segment_tree_refresh(top_id)
            except Exception:  # recorded on the segments as status failed, with the reason
                failed += 1
        self.message_user(request, f"Recomputed {len(tops) - failed} segment tree(s).")
        if failed:
            messages.error(request, f"{failed} tree(s) failed; see their status reason.")


@admin.register(SegmentMetric)
class SegmentMetricAdmin(admin.ModelAdmin):
    list_display = [
        "segment",
        "line",
        "granularity",
        "period_start",
        "charge_kind",
        "billed_cost",
        "effective_cost",
        "resource_count",
    ]
    list_filter = ["granularity", "line", "charge_kind"]
    search_fields = ["segment__name", "segment__token"]
    list_select_related = ["segment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
