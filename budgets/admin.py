"""Admin of budgets, budget alerts, their crossings, stored forecasts and report forecasts.

Everything is shown read only: budgets and alerts are edited on the budget pages or through the
API, which write through the services and check their rules (periods that do not overlap,
thresholds, channels). Operators delete (through the services too) and run the actions, which
call the same services again: evaluate, deliver again, compute again.
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewed and deleted here, written elsewhere (see the module's docstring)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BudgetPeriodInline(admin.TabularInline):
    model = BudgetPeriod
    extra = 0
    fields = ["start_date", "end_date", "amount"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
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

    def delete_model(self, request, obj):
        services.budget_delete(obj)

    def delete_queryset(self, request, queryset):
        for budget in queryset:
            services.budget_delete(budget)

    @admin.action(description="Refresh forecasts and evaluate the alerts of their organizations")
    def evaluate_alerts(self, request, queryset):
        fired = 0
        for organization_id in set(queryset.values_list("organization_id", flat=True)):
            fired += len(services.budgets_evaluate(organization_id))
        messages.info(request, f"{fired} alert(s) fired.")


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyAdmin):
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

    def delete_model(self, request, obj):
        services.budget_alert_delete(obj)

    def delete_queryset(self, request, queryset):
        for alert in queryset:
            services.budget_alert_delete(alert)


@admin.register(BudgetAlertEvent)
class BudgetAlertEventAdmin(ReadOnlyAdmin):
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


@admin.register(CostForecast)
class CostForecastAdmin(ReadOnlyAdmin):
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


@admin.register(ReportForecast)
class ReportForecastAdmin(ReadOnlyAdmin):
    list_display = ["title", "token", "organization", "cost_report", "is_default", "created_at"]
    list_filter = ["is_default"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "created_at", "updated_at"]
    list_select_related = ["organization", "cost_report"]
    raw_id_fields = ["organization", "cost_report", "created_by"]

    def delete_model(self, request, obj):
        services.report_forecast_delete(obj)

    def delete_queryset(self, request, queryset):
        for forecast in queryset:
            services.report_forecast_delete(forecast)
