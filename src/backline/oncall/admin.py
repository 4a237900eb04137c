from django.contrib import admin

from backline.oncall.models import (
    FeedToken,
    Handoff,
    Override,
    Rotation,
    RotationMember,
    SwapRequest,
)


class RotationMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RotationMember
    extra = 1
    ordering = ("position",)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "role", "team", "shift_unit", "shift_count", "time_zone", "is_active")
    list_filter = ("role", "is_active")
    inlines = [RotationMemberInline]


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rotation", "person", "replaces", "start", "end", "created_by")
    list_filter = ("rotation",)


@admin.register(SwapRequest)
class SwapRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rotation", "requester", "counterpart", "start", "end", "status")


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("rotation", "at", "outgoing", "incoming", "status", "transferred_at")
    readonly_fields = ("report", "report_markdown", "transferred_tickets")


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "owner", "rotation", "person", "hint", "revoked_at")
    readonly_fields = ("digest", "hint", "created_at", "last_used_at")
