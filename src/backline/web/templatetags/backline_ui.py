"""Template pieces shared by every page: USWDS form fields, SLA badges, durations, page links."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms, template
from django.http import HttpRequest
from django.utils import timezone

from backline.audit.masking import mask_identifier
from backline.tickets.choices import SlaState
from backline.tickets.models import Ticket

register = template.Library()

# Colour is never the only signal: every badge also carries its state in words.
SLA_BADGE_CLASS = {
    SlaState.ON_TRACK: "bl-sla--on-track",
    SlaState.AT_RISK: "bl-sla--at-risk",
    SlaState.BREACHED: "bl-sla--breached",
    SlaState.PAUSED: "bl-sla--paused",
    SlaState.MET: "bl-sla--met",
    SlaState.NOT_STARTED: "bl-sla--none",
}


def short_moment(moment: datetime, now: datetime) -> str:
    """``14:30`` today, ``Nov 24 14:30`` on another day (both in the active time zone)."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(now).date():
        return local.strftime("%H:%M")
    return local.strftime("%b %d %H:%M")


def sla_badge_text(ticket: Ticket, now: datetime) -> str:
    """The words on a ticket's SLA badge, e.g. ``At risk - due 14:30``."""
    state = ticket.sla_state(now)
    if state == SlaState.AT_RISK and ticket.next_due_at is not None:
        return f"At risk - due {short_moment(ticket.next_due_at, now)}"
    if state == SlaState.NOT_STARTED:
        return "No SLA clock"
    return str(state.label)


@register.inclusion_tag("web/includes/sla_badge.html")
def sla_badge(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """A USWDS tag with colour plus text for the ticket's SLA state."""
    state = ticket.sla_state(now)
    return {"text": sla_badge_text(ticket, now), "css": SLA_BADGE_CLASS[state], "state": state}


@register.filter
def moment(value: datetime | None) -> str:
    """A full date and time in the active (viewer's) time zone, with the zone's abbreviation."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%a %b %d, %Y %H:%M %Z")


@register.filter
def business_duration(value: timedelta | None) -> str:
    """``3 h 20 min`` of business time; ``overdue by 1 h 5 min`` when negative.

    Hours, not days: a business "day" differs between calendars (8 h, or 24 h on 24x7).
    """
    if value is None:
        return "No target"
    seconds = int(value.total_seconds())
    overdue = seconds < 0
    hours, rest = divmod(abs(seconds), 3600)
    minutes = rest // 60
    text = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"overdue by {text}" if overdue else text


@register.filter
def due(value: datetime | None) -> str:
    """A compact due moment for tables, in the viewer's zone: ``Mon Nov 30 17:00``."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%a %b %d %H:%M")


@register.filter
def percent(value: float | None) -> str:
    """A share (0.0123) as a percentage with one decimal (``1.2%``); empty for None."""
    if value is None:
        return ""
    return f"{value * 100:.1f}%"


@register.filter
def masked(value: str) -> str:
    """A patient identifier as its stable masked token (never the identifier itself)."""
    return mask_identifier(value) or "Not given"


@register.filter
def yes_no_unknown(value: bool | None) -> str:
    return "Unknown" if value is None else ("Yes" if value else "No")


@register.simple_tag
def query_with(request: HttpRequest, **changes: Any) -> str:
    """The current query string with some parameters replaced (for page links keeping filters)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _widget_kind(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return "radio"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    return "input"


_WIDGET_CLASS = {
    "input": "usa-input",
    "select": "usa-select",
    "textarea": "usa-textarea",
    "checkbox": "usa-checkbox__input",
    "radio": "usa-radio__input",
}


@register.inclusion_tag("web/includes/field.html")
def uswds_field(field: forms.BoundField) -> dict[str, Any]:
    """One USWDS form group: label, hint, error message and the control, wired with aria."""
    kind = _widget_kind(field)
    auto_id = field.auto_id or f"id_{field.name}"
    described = []
    if field.help_text:
        described.append(f"{auto_id}-hint")
    if field.errors:
        described.append(f"{auto_id}-error")
    css = [_WIDGET_CLASS[kind]]
    if field.errors and kind in ("input", "select", "textarea"):
        css.append(f"{_WIDGET_CLASS[kind]}--error")
    attrs: dict[str, Any] = {"class": " ".join(css)}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    widget_html = "" if kind == "radio" else field.as_widget(attrs=attrs)
    options = []
    if kind == "radio":
        for option in field.subwidgets:
            option.data["attrs"] = {**option.data["attrs"], "class": "usa-radio__input"}
            options.append(option)
    return {
        "field": field,
        "kind": kind,
        "widget": widget_html,
        "options": options,
        "auto_id": auto_id,
        "described": " ".join(described),
    }
