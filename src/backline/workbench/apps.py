from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "backline.workbench"
    verbose_name = "Investigation workbench"
