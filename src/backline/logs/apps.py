from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "backline.logs"
    verbose_name = "Logs"
