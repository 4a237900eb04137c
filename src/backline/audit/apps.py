from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "backline.audit"
    verbose_name = "Audit log"
