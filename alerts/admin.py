from django.contrib import admin, messages

from . import anomalies
from . import delivery as delivery_service
from .models import (
    AlertEvent,
    Anomaly,
    AnomalyNotification,
    Channel,
    CostAlert,
    Delivery,
    DeliveryAttempt,
    DigestPreference,
    SeriesTuning,
    Watch,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "target", "organization", "enabled", "created_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "target"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "succeeded",
        "response_status",
        "error",
        "started_at",
        "duration_ms",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: what was sent where, what failed and was retried; replay re-sends."""

    list_display = [
        "event_key",
        "target_label",
        "organization",
        "status",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "channel__kind"]
    search_fields = ["event_key", "email", "subject", "token"]
    list_select_related = ["organization", "channel"]
    raw_id_fields = ["organization", "channel"]
    readonly_fields = [field.name for field in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Replay (send again)")
    def replay(self, request, queryset):
        replayed = 0
        for delivery in queryset:
            try:
                delivery_service.delivery_replay(delivery)
                replayed += 1
            except delivery_service.ServiceError as error:
                self.message_user(request, f"{delivery}: {error.message}", messages.WARNING)
        self.message_user(request, f"{replayed} deliveries queued again.")


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin):
    """Detected by the checks; triage (status, feedback, expected) goes through the service."""

    list_display = ["day", "label", "organization", "amount", "expected_amount", "status"]
    list_filter = ["status", "series_kind", "direction", "marked_expected"]
    search_fields = ["label", "token", "series_key", "service", "account"]
    list_select_related = ["organization"]
    readonly_fields = [
        field.name
        for field in Anomaly._meta.fields
        if field.name not in ("status", "feedback", "marked_expected")
    ]
    date_hierarchy = "day"

    def save_model(self, request, obj, form, change):
        expected = obj.marked_expected if "marked_expected" in form.changed_data else None
        anomalies.anomaly_update(
            Anomaly.objects.get(pk=obj.pk),
            status=obj.status,
            feedback=obj.feedback,
            expected=expected,
        )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SeriesTuning)
class SeriesTuningAdmin(admin.ModelAdmin):
    """Deleting a row gives the series its default thresholds back."""

    list_display = ["series_key", "organization", "z_threshold", "min_impact", "expected_marks"]
    search_fields = ["series_key"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]


@admin.register(AnomalyNotification)
class AnomalyNotificationAdmin(admin.ModelAdmin):
    list_display = ["token", "cost_report", "organization", "threshold", "created_at"]
    search_fields = ["token"]
    list_select_related = ["organization", "cost_report"]
    raw_id_fields = ["organization", "cost_report"]
    filter_horizontal = ["users"]
    readonly_fields = ["token", "created_at", "updated_at"]


@admin.register(CostAlert)
class CostAlertAdmin(admin.ModelAdmin):
    list_display = ["title", "token", "organization", "interval", "threshold", "unit_type"]
    list_filter = ["interval", "unit_type"]
    search_fields = ["title", "token"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "workspace"]
    filter_horizontal = ["reports"]
    readonly_fields = ["token", "created_at", "updated_at"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["title", "token", "organization", "subject", "condition", "enabled"]
    list_filter = ["subject", "condition", "enabled"]
    search_fields = ["title", "token"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "segment", "metric"]
    filter_horizontal = ["channels"]
    readonly_fields = ["token", "created_at", "updated_at"]


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ["triggered_at", "alert_type", "cost_alert", "watch", "period_start"]
    list_filter = ["alert_type"]
    search_fields = ["token", "description", "report_token"]
    list_select_related = ["cost_alert", "watch"]
    readonly_fields = [field.name for field in AlertEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "weekly_digest", "updated_at"]
    list_filter = ["weekly_digest"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user", "organization"]
