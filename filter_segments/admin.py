from django.contrib import admin

from .models import FilterSegment


@admin.register(FilterSegment)
class FilterSegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "module", "organization", "created_by", "predicate_count", "updated_at"]
    list_filter = ["module", "organization"]
    search_fields = ["name", "module", "organization__name", "created_by__username", "id"]
    readonly_fields = ["id", "created_by_user_id", "created_at", "updated_at"]
    list_select_related = ["organization", "created_by"]
    autocomplete_fields = ["created_by"]

    @admin.display(description="Filters")
    def predicate_count(self, segment: FilterSegment) -> int:
        return len(segment.filters) if isinstance(segment.filters, list) else 0
