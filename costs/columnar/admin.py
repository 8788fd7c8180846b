from django.contrib import admin

from .models import ColumnarPartition


@admin.register(ColumnarPartition)
class ColumnarPartitionAdmin(admin.ModelAdmin):
    """The columnar store's manifest, read-only: which Parquet files hold which billing period
    of an integration's cost rows (imports write it; docs/columnar.md)."""

    list_display = [
        "integration",
        "billing_period_start",
        "generation",
        "active",
        "row_count",
        "provider",
        "created_at",
    ]
    list_filter = ["active", "provider", "billing_period_start"]
    list_select_related = ["integration"]
    readonly_fields = [field.name for field in ColumnarPartition._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
