from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backline.accounts"
    verbose_name = "People and roles"
