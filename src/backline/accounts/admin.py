from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from backline.accounts.models import ApiToken, RoleGrant, Team, User


class RoleGrantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RoleGrant
    extra = 1


@admin.register(User)
class BacklineUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [RoleGrantInline]
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Backline", {"fields": ("display_name", "time_zone")}))  # type: ignore[misc]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "role")
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "user", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("digest", "hint", "created_at", "last_used_at")
