"""Template context every page gets: who is signed in and what they may reach from the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from backline.accounts.permissions import Action, can
from backline.accounts.roles import Role


def backline(request: HttpRequest) -> dict[str, Any]:
    """The person's roles (values and labels) for the header, and which nav entries to show."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_roles": [], "my_role_labels": [], "can_view_tickets": False}
    order = list(Role)
    roles = sorted(user.roles, key=order.index)
    return {
        "my_roles": sorted(r.value for r in roles),
        "my_role_labels": [r.label for r in roles],
        "can_view_tickets": can(user, Action.TICKET_VIEW),
        "can_create_tickets": can(user, Action.TICKET_CREATE),
        "can_manage_tokens": can(user, Action.TOKEN_MANAGE_OWN),
    }
