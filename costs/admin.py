from django.contrib import admin, messages

from core.admin import CappedCountPaginator, counted_deletion
from core.errors import ServiceError

from . import services
from .models import CostRow, DimensionValue, ImportJob, Integration, IntegrationSource


class IntegrationSourceInline(admin.StackedInline):
    """Where the integration's exports are pulled from, and how the last sync went."""

    model = IntegrationSource
    can_delete = True
    fields = [
        "type",
        "settings",
        "sync_every_minutes",
        "last_checked_at",
        "last_imported_delivery",
        "next_run_at",
        "last_error",
    ]
    readonly_fields = ["last_checked_at", "last_imported_delivery", "next_run_at", "last_error"]


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    inlines = [IntegrationSourceInline]
    list_display = ["name", "provider", "organization", "created_at", "id"]
    list_filter = ["provider"]
    search_fields = ["name", "id", "organization__name"]
    readonly_fields = ["id", "created_at"]
    list_select_related = ["organization"]

    def get_deleted_objects(self, objs, request):
        """Counts instead of one line per cost row: an integration owns millions of them, and
        listing them made the confirmation page take seconds even at demo size."""
        return counted_deletion(self, objs, request)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "integration",
        "status",
        "rows_read",
        "rows_written",
        "rows_replaced",
        "source",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "source", "integration__provider"]
    search_fields = ["filename", "error", "integration__name", "organization__name"]
    list_select_related = ["integration", "organization"]
    readonly_fields = [field.name for field in ImportJob._meta.fields if field.name not in ("id",)]
    actions = ["rerun_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Run the selected failed imports again")
    def rerun_failed(self, request, queryset):
        queued = 0
        for job in queryset.filter(status=ImportJob.Status.FAILED):
            try:
                services.import_job_enqueue(services.import_job_retry(job))
            except ServiceError as error:
                self.message_user(request, f"{job}: {error.message}", messages.ERROR)
            else:
                queued += 1
        skipped = queryset.count() - queued
        self.message_user(request, f"Queued {queued} import(s) again; skipped {skipped}.")


@admin.register(CostRow)
class CostRowAdmin(admin.ModelAdmin):
    """Read-only: the legacy row store (rows of earlier versions until ``costs_to_columnar``
    moves them; imported rows are in the columnar store, listed by billing period)."""

    list_display = [
        "charge_period_start",
        "provider",
        "service_name",
        "sub_account_id",
        "region_id",
        "charge_category",
        "billed_cost",
        "effective_cost",
    ]
    # Narrowed by integration and billing period (the cost_integration_period index); no free
    # search: no single cost-row column is indexed, so any search would read every row.
    list_filter = ["integration", "billing_period_start", "provider", "charge_category"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ["integration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DimensionValue)
class DimensionValueAdmin(admin.ModelAdmin):
    list_display = ["field", "key", "value", "provider", "integration", "billing_period_start"]
    list_filter = ["provider", "field"]
    search_fields = ["value", "key"]
    list_select_related = ["integration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
