from django.contrib import admin

from backline.calendars.models import Calendar, Holiday


class HolidayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Holiday
    extra = 1


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "time_zone", "is_24x7", "us_federal_holidays")
    inlines = [HolidayInline]
