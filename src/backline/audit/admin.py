from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backline.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor", "action", "ticket_number", "unmasked", "result_count")
    list_filter = ("action", "unmasked")
    search_fields = ("ticket_number", "action", "actor__username")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
