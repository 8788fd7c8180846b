from django.contrib import admin
from django.utils.html import format_html

from segments.filter_tree import from_json, render_vql

from .models import CostReport, DataExport, Folder, SavedFilter


def _vql(tree) -> str:
    return render_vql(from_json(tree)) if tree else "(every cost row)"


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    list_display = ["title", "token", "organization", "workspace", "parent", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "created_at", "updated_at"]
    list_select_related = ["organization", "workspace", "parent"]
    raw_id_fields = ["organization", "workspace", "parent"]
    filter_horizontal = ["saved_filters"]


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["title", "token", "organization", "workspace", "created_at"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "filter_vql", "created_at", "updated_at"]
    exclude = ["filter_tree"]
    list_select_related = ["organization", "workspace"]
    raw_id_fields = ["organization", "workspace", "created_by"]

    @admin.display(description="Filter (VQL)")
    def filter_vql(self, obj) -> str:
        return _vql(obj.filter_tree)


@admin.register(CostReport)
class CostReportAdmin(admin.ModelAdmin):
    """Filters are edited through the API and pages, which validate them; here they are shown."""

    list_display = [
        "title",
        "token",
        "organization",
        "workspace",
        "folder",
        "date_interval",
        "date_bin",
        "created_at",
    ]
    list_filter = ["date_interval", "date_bin", "chart_type", "amortize"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "filter_vql", "created_at", "updated_at"]
    exclude = ["filter_tree"]
    list_select_related = ["organization", "workspace", "folder"]
    raw_id_fields = ["organization", "workspace", "folder", "created_by"]
    filter_horizontal = ["saved_filters"]

    @admin.display(description="Filter (VQL)")
    def filter_vql(self, obj) -> str:
        return _vql(obj.filter_tree)


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["token", "organization", "status", "created_at", "completed_at"]
    list_filter = ["status"]
    search_fields = ["token"]
    readonly_fields = [
        "token",
        "organization",
        "workspace",
        "export_type",
        "status",
        "attributes",
        "file_names",
        "error",
        "created_by",
        "created_at",
        "completed_at",
    ]
    exclude = ["files"]
    list_select_related = ["organization"]

    @admin.display(description="Files")
    def file_names(self, obj) -> str:
        return format_html("<br>".join(["{}"] * len(obj.files)), *obj.files) if obj.files else "-"

    def has_add_permission(self, request):
        return False
