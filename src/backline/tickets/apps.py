from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "backline.tickets"
    verbose_name = "Tickets"
