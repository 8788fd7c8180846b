"""Admin of budgets, budget alerts, their crossings, stored forecasts and report forecasts.

Budgets and alerts are edited here for operators; the rules (periods that do not overlap,
thresholds, channels) are the services', checked by the API and the pages. Crossings and
forecasts are computed records: read only, with actions that run the same services again.
"""

from django.contrib import admin, messages

from . import services
from .models import (
    Budget,
    BudgetAlert,
    BudgetAlertEvent,
    BudgetPeriod,
    CostForecast,
    ReportForecast,
)


class BudgetPeriodInline(admin.TabularInline):
    model = BudgetPeriod
    extra = 0
    fields = ["start_date", "end_date", "amount"]


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "token",
        "organization",
        "workspace",
        "cost_report",
        "segment",
        "parent",
    ]
    search_fields = ["name", "token"]
    readonly_fields = ["token", "created_at", "updated_at"]
    list_select_related = ["organization", "workspace", "cost_report", "segment", "parent"]
    raw_id_fields = ["organization", "workspace", "cost_report", "segment", "parent", "created_by"]
    inlines = [BudgetPeriodInline]
    actions = ["evaluate_alerts"]

    @admin.action(description="Refresh forecasts and evaluate the alerts of their organizations")
    def evaluate_alerts(self, request, queryset):
        fired = 0
        for organization_id in set(queryset.values_list("organization_id", flat=True)):
            fired += len(services.budgets_evaluate(organization_id))
        messages.info(request, f"{fired} alert(s) fired.")


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    list_display = [
        "token",
        "organization",
        "threshold",
        "basis",
        "duration_in_days",
        "period_to_track",
        "created_at",
    ]
    list_filter = ["basis", "period_to_track"]
    search_fields = ["token"]
    readonly_fields = ["token", "created_at", "updated_at"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "workspace", "created_by"]
    filter_horizontal = ["budgets", "recipients"]


@admin.register(BudgetAlertEvent)
class BudgetAlertEventAdmin(admin.ModelAdmin):
    """Each crossing once; delivery (sent, failed, retried) is in the alerts app's Deliveries,
    under the event key shown here."""

    list_display = [
        "subject",
        "budget",
        "period_start",
        "threshold",
        "actual",
        "amount",
        "currency",
        "fired_at",
        "delivered_at",
    ]
    list_filter = ["threshold", "period_start"]
    search_fields = ["subject", "budget__name", "budget__token", "alert__token"]
    readonly_fields = [field.name for field in BudgetAlertEvent._meta.fields] + ["event_key"]
    list_select_related = ["budget", "alert"]
    actions = ["deliver_again"]

    @admin.action(description="Deliver again (targets already sent are not sent twice)")
    def deliver_again(self, request, queryset):
        for event in queryset:
            services.budget_alert_event_deliver(event.pk)
        messages.info(request, f"{queryset.count()} crossing(s) handed to delivery.")

    def has_add_permission(self, request):
        return False


@admin.register(CostForecast)
class CostForecastAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "organization",
        "provider",
        "service",
        "method",
        "history_end",
        "computed_at",
    ]
    list_filter = ["method"]
    list_select_related = ["organization", "cost_report", "segment"]
    readonly_fields = [field.name for field in CostForecast._meta.fields]
    actions = ["refresh"]

    @admin.action(description="Compute again")
    def refresh(self, request, queryset):
        for forecast in queryset.select_related("cost_report", "segment"):
            services.forecast_refresh(
                cost_report=forecast.cost_report,
                segment=forecast.segment,
                provider=forecast.provider,
                service=forecast.service,
            )
        messages.info(request, f"{queryset.count()} forecast(s) computed again.")

    def has_add_permission(self, request):
        return False


@admin.register(ReportForecast)
class ReportForecastAdmin(admin.ModelAdmin):
    list_display = ["title", "token", "organization", "cost_report", "is_default", "created_at"]
    list_filter = ["is_default"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "created_at", "updated_at"]
    list_select_related = ["organization", "cost_report"]
    raw_id_fields = ["organization", "cost_report", "created_by"]
