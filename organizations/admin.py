from django.contrib import admin, messages

from core.admin import counted_deletion

from . import services
from .models import ApiToken, Membership, Organization, Workspace


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0
    readonly_fields = ["token", "created_at"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at"]
    inlines = [WorkspaceInline, MembershipInline]

    def get_deleted_objects(self, objs, request):
        """Counts of what goes along (cost rows, segments, events…), not a line per row."""
        return counted_deletion(self, objs, request)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "token", "organization", "is_default", "created_at"]
    list_filter = ["is_default", "organization"]
    search_fields = ["name", "token", "organization__name"]
    readonly_fields = ["token", "created_at"]
    list_select_related = ["organization"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created here too; the secret is shown once, in the success message."""

    list_display = [
        "name",
        "display_id",
        "organization",
        "scopes",
        "status",
        "last_used_at",
        "expires_at",
    ]
    list_filter = ["organization", "revoked_at"]
    search_fields = ["name", "public_id", "organization__name"]
    readonly_fields = [
        "display_id",
        "status",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = [
        "organization",
        "name",
        "scopes",
        "workspaces",
        "expires_at",
        "display_id",
        "status",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    filter_horizontal = ["workspaces"]
    list_select_related = ["organization"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "organization", "scopes", "workspaces"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, secret = services.api_token_create(
            form.cleaned_data["organization"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data.get("scopes") or ["read"],
            expires_at=form.cleaned_data.get("expires_at"),
            created_by=request.user,
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(request, f"Token secret (shown once, copy it now): {secret}")

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        elif form.cleaned_data.get("workspaces"):
            form.instance.workspaces.set(form.cleaned_data["workspaces"])

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
