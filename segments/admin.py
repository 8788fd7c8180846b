from django.contrib import admin, messages

from . import services
from .models import Segment, SegmentMetric


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


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "token",
        "provider",
        "parent",
        "priority",
        "status",
        "is_system_generated",
        "workspace",
        "organization",
        "created_at",
    ]
    list_filter = ["provider", "status", "is_system_generated", "organization"]
    search_fields = ["name", "token", "id", "organization__name"]
    list_select_related = ["parent", "workspace", "organization"]
    readonly_fields = [
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
    autocomplete_fields = ["parent"]
    inlines = [ChildInline, MetricInline]
    actions = ["recompute_metrics"]

    def get_ordering(self, request):
        return ["organization__name", "parent__name", "priority", "created_at"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_system_generated:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_system_generated:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for segment in queryset:
            if segment.is_system_generated:
                messages.error(request, f"'{segment}' is system-generated and was kept.")
                continue
            services.segment_delete(segment)

    @admin.action(description="Recompute metrics")
    def recompute_metrics(self, request, queryset):
        tops = {services.top_of(segment).pk: services.top_of(segment) for segment in queryset}
        for top in tops.values():
            services.segment_tree_refresh(top.pk)
        self.message_user(request, f"Recomputed {len(tops)} segment tree(s).")


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
