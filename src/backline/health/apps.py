from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "backline.health"
    verbose_name = "Upstream health"
