"""Template pieces of the workbench: the Investigate slot on the ticket page, event cells."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from backline.accounts.permissions import Action, can
from backline.tickets.choices import Tier
from backline.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("workbench/includes/investigate_slot_body.html", takes_context=True)
def investigate_slot(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """The Investigate panel's placeholder (htmx loads it) on Tier 3 tickets, for log readers."""
    request = context.get("request")
    user = getattr(request, "user", None)
    show = ticket.tier == Tier.TIER3 and can(user, Action.LOGS_SEARCH)
    from backline.workbench.views import investigate_url

    return {"show": show, "ticket": ticket, "url": investigate_url(ticket.number) if show else ""}


@register.filter
def event_time(value: datetime | None) -> str:
    """``Jan 06 09:34:14.533`` in the viewer's zone (milliseconds matter in a request)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return local.strftime("%b %d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


@register.filter
def cell(value: Any) -> str:
    """A table cell's text: times in the viewer's zone, objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return event_time(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


@register.filter
def status_class(value: Any) -> str:
    """A CSS modifier for a status level (the words are always shown too)."""
    text = str(value or "").lower()
    if text.startswith(("err", "crit", "alert", "emerg", "fatal")):
        return "wb-status--error"
    if text.startswith("warn"):
        return "wb-status--warn"
    return "wb-status--info"


@register.filter
def failed(event: Any) -> bool:
    """Did this (shown) event report a failure? See ``timeline.event_failed``."""
    from backline.workbench.timeline import event_failed

    return isinstance(event, dict) and event_failed(event)


@register.filter
def as_json(value: Any) -> str:
    """Indented JSON for an event (times as ISO text)."""
    from backline.logs.source import iso_utc

    def plain(item: Any) -> str:
        return iso_utc(item) if isinstance(item, datetime) else str(item)

    return json.dumps(value, indent=2, sort_keys=True, default=plain)


@register.inclusion_tag("workbench/includes/nav.html", takes_context=True)
def workbench_nav(context: template.Context) -> dict[str, Any]:
    """The header's "Logs" and "Audit" entries, for the roles that may use them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "current": match.view_name if match else "",
        "can_search_logs": can(user, Action.LOGS_SEARCH),
        "can_view_audit": can(user, Action.AUDIT_VIEW),
    }
