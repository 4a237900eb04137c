"""Template pieces of the escalation app: the ticket-page slot and the navigation links."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from backline.accounts.permissions import Action, can
from backline.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("escalation/includes/slot.html", takes_context=True)
def escalation_slot(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """The recommendation panel's placeholder (htmx loads it) for people who may see patterns."""
    user = getattr(context.get("request"), "user", None)
    show = bool(ticket.affected_user_id) and can(user, Action.PATTERNS_VIEW)
    url = reverse("web:escalation:panel", args=[ticket.number]) if show else ""
    return {"show": show, "url": url}


@register.inclusion_tag("escalation/includes/nav.html", takes_context=True)
def escalation_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    return {
        "show": can(user, Action.PATTERNS_VIEW),
        "may_configure": can(user, Action.ESCALATION_SETTINGS),
        "current": current,
    }
