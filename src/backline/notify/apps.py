from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "backline.notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Subscribing here keeps tickets free of any import of notify (tickets only knows hook lists).
        from backline.notify import services

        services.subscribe()
