from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "backline.calendars"
    verbose_name = "Business calendars"
