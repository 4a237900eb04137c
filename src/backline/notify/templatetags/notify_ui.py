"""Template pieces of the notify app: its links in the header navigation."""

from __future__ import annotations

from typing import Any

from django import template

from backline.accounts.permissions import Action, can

register = template.Library()


@register.inclusion_tag("notify/includes/nav.html", takes_context=True)
def notify_nav(context: template.Context) -> dict[str, Any]:
    """ "Notifications" (one's own settings) for every role, "Outbox" for those who may see it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    in_outbox = current in ("web:notify:outbox", "web:notify:delivery")
    return {
        "show_settings": can(user, Action.NOTIFY_RULES_OWN),
        "show_outbox": can(user, Action.OUTBOX_VIEW),
        "settings_current": current.startswith("web:notify:") and not in_outbox,
        "outbox_current": in_outbox,
    }


@register.inclusion_tag("notify/includes/subnav.html", takes_context=True)
def notify_subnav(context: template.Context) -> dict[str, Any]:
    """The notification pages' own links; shown only to people who may reach more than one."""
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "current": match.view_name if match else "",
        "may_manage_channels": can(user, Action.CHANNEL_MANAGE),
        "may_view_outbox": can(user, Action.OUTBOX_VIEW),
    }
