"""Admin of business metrics and their values. Metrics are written through the services (the
same rules as the API); values are shown, and deleted, but edited through the API or a CSV."""

from django import forms
from django.contrib import admin

from core.errors import ServiceError

from . import services
from .models import (
    BusinessMetric,
    BusinessMetricForecastedValue,
    BusinessMetricValue,
    CostReportAttachment,
    Statement,
    StatementSchedule,
)

METRIC_FIELDS = ("title", "billable_metric", "label_dimension", "price_per_unit", "currency")


class BusinessMetricForm(forms.ModelForm):
    class Meta:
        model = BusinessMetric
        fields = ["organization", *METRIC_FIELDS]

    def clean(self):
        data = super().clean()
        organization = data.get("organization") or getattr(self.instance, "organization", None)
        if organization is None:
            return data
        try:
            services.business_metric_validate(
                organization,
                title=data.get("title", ""),
                billable_metric=data.get("billable_metric"),
                label_dimension=data.get("label_dimension", ""),
                price_per_unit=data.get("price_per_unit"),
                currency=data.get("currency", "USD"),
            )
        except ServiceError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
        return data


class AttachmentInline(admin.TabularInline):
    model = CostReportAttachment
    extra = 0
    raw_id_fields = ["cost_report"]


@admin.register(BusinessMetric)
class BusinessMetricAdmin(admin.ModelAdmin):
    form = BusinessMetricForm
    list_display = [
        "title",
        "token",
        "organization",
        "import_type",
        "billable_metric",
        "created_at",
    ]
    list_filter = ["import_type"]
    search_fields = ["title", "token"]
    readonly_fields = ["token", "import_type", "created_by", "created_at", "updated_at"]
    list_select_related = ["organization", "billable_metric"]
    raw_id_fields = ["organization", "billable_metric"]
    inlines = [AttachmentInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "organization"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in METRIC_FIELDS}
        if change:
            saved = services.business_metric_update(obj, **data)
        else:
            saved = services.business_metric_create(
                form.cleaned_data["organization"], created_by=request.user, **data
            )
        obj.pk, obj.token = saved.pk, saved.token


@admin.register(CostReportAttachment)
class CostReportAttachmentAdmin(admin.ModelAdmin):
    list_display = ["metric", "cost_report", "unit_scale", "calculation_type"]
    list_filter = ["unit_scale", "calculation_type"]
    list_select_related = ["metric", "cost_report"]
    raw_id_fields = ["metric", "cost_report"]


class ValueAdmin(admin.ModelAdmin):
    list_display = ["metric", "date", "label", "amount"]
    list_filter = ["date"]
    search_fields = ["metric__token", "metric__title", "label"]
    list_select_related = ["metric"]
    readonly_fields = ["metric", "date", "label", "amount"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(BusinessMetricValue, ValueAdmin)
admin.site.register(BusinessMetricForecastedValue, ValueAdmin)


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    """Statements are prepared from the cost-to-serve page or the monthly schedule."""

    list_display = ["token", "organization", "kind", "month", "source_name", "customer", "status"]
    list_filter = ["status", "kind", "month"]
    search_fields = ["token", "source_name", "customer__external_id"]
    list_select_related = ["organization", "customer"]
    readonly_fields = [
        "token",
        "organization",
        "kind",
        "month",
        "source_kind",
        "source_token",
        "source_name",
        "metric",
        "customer",
        "status",
        "total",
        "currency",
        "files",
        "error",
        "emailed_to",
        "created_by",
        "created_at",
        "completed_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(StatementSchedule)
class StatementScheduleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "kind", "per_customer", "active", "last_month_sent"]
    list_filter = ["active", "kind", "per_customer"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "metric"]
    readonly_fields = ["last_month_sent", "created_at"]
