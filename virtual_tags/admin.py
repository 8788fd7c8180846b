from django.contrib import admin

from core.admin import HistoryAdmin

from .models import AsyncUpdate, VirtualTagConfig, VirtualTagStatus


class StatusInline(admin.TabularInline):
    model = VirtualTagStatus
    extra = 0
    readonly_fields = ("provider", "status", "error", "updated_at")
    can_delete = False


@admin.register(VirtualTagConfig)
class VirtualTagConfigAdmin(HistoryAdmin):
    """Changes made here are recorded in the history like any other (who, when, what)."""

    list_display = ("key", "organization", "overridable", "backfill_until", "updated_at")
    list_filter = ("overridable",)
    list_select_related = ("organization",)
    search_fields = ("key", "token", "organization__name")
    readonly_fields = ("token", "money_moved", "created_by", "created_at", "updated_at")
    history_list_display = ("money_moved",)
    inlines = [StatusInline]


@admin.register(AsyncUpdate)
class AsyncUpdateAdmin(admin.ModelAdmin):
    list_display = ("request_id", "config", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("config",)
    readonly_fields = ("request_id", "config", "changes", "requested_by", "status", "error")
