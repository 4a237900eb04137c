"""Template pieces for the health pages: the nav check, state badges, numbers with units."""

from __future__ import annotations

from typing import Any

from django import template

from backline.accounts.permissions import Action, can
from backline.health.rules import State, milliseconds, percent

register = template.Library()

STATE_LABELS = {State.NORMAL: "Normal", State.DEGRADED: "Degraded", State.DOWN: "Down"}


@register.filter
def may_view_health(user: Any) -> bool:
    """Whether the header shows the "Upstream health" link."""
    return can(user, Action.HEALTH_VIEW)


@register.inclusion_tag("health/includes/state_badge.html")
def state_badge(state: State | str) -> dict[str, Any]:
    """A tag with colour and the state in words (colour is never the only signal)."""
    value = State(state)
    return {"state": value.value, "label": STATE_LABELS[value]}


@register.filter
def as_percent(value: float | None) -> str:
    return percent(value)


@register.filter
def as_ms(value: float | None) -> str:
    return milliseconds(value)
