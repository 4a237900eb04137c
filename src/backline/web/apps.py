from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "backline.web"
    verbose_name = "Web interface"
