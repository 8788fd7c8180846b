from django.contrib import admin, messages

from core.admin import CappedCountPaginator
from core.errors import ServiceError

from . import services
from .models import (
    BillableMetric,
    Customer,
    Product,
    ProductFamily,
    UsageDaily,
    UsageDailyDistinct,
    UsageDirtyDay,
    UsageEvent,
)


@admin.register(ProductFamily)
class ProductFamilyAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at"]
    list_select_related = ["organization"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "family", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "id", "family__name"]
    readonly_fields = ["id", "created_at"]
    list_select_related = ["organization", "family"]
    autocomplete_fields = ["family"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "external_id", "email", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "id", "external_id", "email"]
    readonly_fields = ["id", "created_at"]
    list_select_related = ["organization"]


@admin.register(BillableMetric)
class BillableMetricAdmin(admin.ModelAdmin):
    """Metrics are created through the API or the pages (their rules live in the services);
    here they are inspected, renamed and archived."""

    list_display = [
        "name",
        "code",
        "aggregation_type",
        "aggregation_key",
        "product_family",
        "organization",
        "is_archived",
        "created_at",
    ]
    list_filter = ["aggregation_type", "organization", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "code", "id"]
    list_select_related = ["organization", "product_family"]
    fields = [
        "id",
        "organization",
        "name",
        "description",
        "code",
        "aggregation_type",
        "aggregation_key",
        "segmentation_matrix",
        "unit_conversion_factor",
        "unit_conversion_rounding",
        "usage_group_key",
        "product_family",
        "product",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    readonly_fields = [
        "id",
        "organization",
        "code",
        "aggregation_type",
        "aggregation_key",
        "segmentation_matrix",
        "unit_conversion_factor",
        "unit_conversion_rounding",
        "usage_group_key",
        "product_family",
        "product",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    actions = ["archive", "unarchive"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.metric_update(
            obj, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
        )

    @admin.display(boolean=True, description="Archived")
    def is_archived(self, metric):
        return metric.archived_at is not None

    @admin.action(description="Archive selected metrics")
    def archive(self, request, queryset):
        for metric in queryset:
            services.metric_archive(metric)
        self.message_user(request, f"Archived {queryset.count()} metric(s).")

    @admin.action(description="Unarchive selected metrics")
    def unarchive(self, request, queryset):
        done = 0
        for metric in queryset:
            try:
                services.metric_unarchive(metric)
                done += 1
            except ServiceError as error:
                self.message_user(request, f"{metric}: {error.message}", messages.ERROR)
        self.message_user(request, f"Unarchived {done} metric(s).")


@admin.register(UsageEvent)
class UsageEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "code", "customer", "timestamp", "organization", "ingested_at"]
    list_filter = ["organization", "code"]
    # Exact matches only: (organization, event_id) is indexed; substring searches read every
    # event. With an organization chosen, an event id is found through the index.
    search_fields = ["=event_id", "=code", "=customer__external_id"]
    paginator = CappedCountPaginator
    date_hierarchy = "timestamp"
    list_select_related = ["organization", "customer"]
    readonly_fields = [
        "organization",
        "event_id",
        "code",
        "customer",
        "timestamp",
        "properties",
        "ingested_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived data: rebuilt from events, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = [
        "metric",
        "customer",
        "day",
        "is_other",
        "dimension1",
        "dimension2",
        "usage_group",
        "event_count",
        "value_sum",
    ]
    list_filter = ["is_other", "metric__organization"]
    search_fields = ["metric__code", "customer__external_id", "usage_group"]
    date_hierarchy = "day"
    list_select_related = ["metric", "customer"]


@admin.register(UsageDailyDistinct)
class UsageDailyDistinctAdmin(ReadOnlyAdmin):
    list_display = ["metric", "customer", "day", "dimension1", "dimension2", "usage_group", "value"]
    search_fields = ["metric__code", "customer__external_id", "value"]
    date_hierarchy = "day"
    list_select_related = ["metric", "customer"]


class MaterializationStateFilter(admin.SimpleListFilter):
    title = "materialization"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", "Pending"),
            ("failing", "Failing (will retry)"),
            ("given_up", "Given up"),
        ]

    def queryset(self, request, queryset):
        limit = UsageDirtyDay.MAX_ATTEMPTS
        if self.value() == "pending":
            return queryset.filter(attempts=0)
        if self.value() == "failing":
            return queryset.filter(attempts__gt=0, attempts__lt=limit)
        if self.value() == "given_up":
            return queryset.filter(attempts__gte=limit)
        return queryset


@admin.register(UsageDirtyDay)
class UsageDirtyDayAdmin(ReadOnlyAdmin):
    """Days waiting for materialization, and those that failed with their reason."""

    list_display = [
        "code",
        "customer",
        "day",
        "organization",
        "marked_at",
        "attempts",
        "failed_at",
        "short_error",
    ]
    list_filter = [MaterializationStateFilter, "organization"]
    search_fields = ["code", "customer__external_id"]
    list_select_related = ["organization", "customer"]
    readonly_fields = ["last_error"]
    actions = ["materialize", "retry"]

    @admin.display(description="Last error")
    def short_error(self, row):
        return row.last_error[:120]

    @admin.action(description="Retry failed days (fresh attempts)")
    def retry(self, request, queryset):
        count = services.usage_materialize_retry(queryset)
        self.message_user(request, f"{count} day(s) will be materialized again.")

    @admin.action(description="Materialize selected days now")
    def materialize(self, request, queryset):
        done = 0
        for row in queryset:
            done += services.usage_materialize_pending(
                organization_id=row.organization_id,
                code=row.code,
                customer_id=row.customer_id,
                day_from=row.day,
                day_to=row.day,
                wait=True,
            )
        self.message_user(request, f"Materialized {done} day(s).")
        failed = queryset.filter(attempts__gt=0).count()
        if failed:
            self.message_user(
                request, f"{failed} day(s) failed; see their last error.", messages.ERROR
            )
