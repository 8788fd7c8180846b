from django.contrib import admin, messages

from . import delivery as delivery_service
from .models import Channel, Delivery, DeliveryAttempt


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
