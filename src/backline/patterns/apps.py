"""Django app for error signatures: stored templates, the saved miner state, `patterns` command."""

from django.apps import AppConfig


class PatternsConfig(AppConfig):
    name = "backline.patterns"
    verbose_name = "Error signatures"
    default_auto_field = "django.db.models.BigAutoField"
