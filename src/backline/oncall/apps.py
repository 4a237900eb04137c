from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "backline.oncall"
    verbose_name = "On-call"

    def ready(self) -> None:
        # Tickets never import on-call: the escalation calls whatever routers registered here.
        from backline.oncall.routing import route_escalated_ticket
        from backline.tickets.services import escalated_to_tier3_hooks

        if route_escalated_ticket not in escalated_to_tier3_hooks:
            escalated_to_tier3_hooks.append(route_escalated_ticket)
