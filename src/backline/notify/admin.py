from django.contrib import admin

from backline.notify.models import Channel, Delivery, NotificationRule


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    # The model's clean() refuses malformed webhook URLs and routing keys here too.
    list_display = ("name", "kind", "role", "user", "enabled")
    list_filter = ("kind", "role", "enabled")


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "event", "channels", "quiet_start", "quiet_end")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "event", "channel", "status", "attempts", "next_attempt_at", "ticket")
    list_filter = ("status", "channel", "event")
    readonly_fields = [f.name for f in Delivery._meta.fields]
