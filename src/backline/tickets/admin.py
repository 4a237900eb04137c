from django.contrib import admin

from backline.tickets.models import SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("priority", "acknowledge_minutes", "resolve_minutes", "calendar")
