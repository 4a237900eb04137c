"""Template context every page gets: who is signed in, what they may reach from the header, and
the "on call now" strip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest
from django.utils import timezone

from backline.accounts.permissions import Action, can
from backline.accounts.roles import Role
from backline.oncall.models import Override, Rotation
from backline.oncall.selectors import on_call_now

# The strip is shown on every page, so its answer is cached briefly; see `on_call_strip`.
ON_CALL_STRIP_SECONDS = 60


@dataclass(frozen=True)
class OnCallBadge:
    """One role in the strip, as plain values (safe to cache; no model instances)."""

    role: str
    role_label: str
    person: str | None
    in_coverage: bool
    has_rotation: bool
    is_override: bool
    shift_end: datetime | None
    next_coverage_start: datetime | None
    next_person: str | None


def _strip_key(now: datetime) -> str:
    """A cache key that changes with the minute and with any change of rotations or overrides.

    Two aggregate queries: rotation edits (members included) bump `updated_at`, retiring one
    changes the active count, and overrides (swaps create them) change the count or the top id.
    """
    rotations = Rotation.objects.filter(is_active=True).aggregate(
        n=Count("id"), top=Max("id"), changed=Max("updated_at")
    )
    overrides = Override.objects.aggregate(n=Count("id"), top=Max("id"))
    minute = now.replace(second=0, microsecond=0).timestamp()
    raw = repr((minute, sorted(rotations.items()), sorted(overrides.items())))
    return "backline:oncall-strip:" + hashlib.sha256(raw.encode()).hexdigest()


def on_call_strip(now: datetime | None = None) -> list[OnCallBadge]:
    """Who is on call now for Tier 3, Monitoring and Investigator, and whether inside coverage.

    A full answer (`oncall.selectors.on_call_now`) takes a few queries per role, too many for
    every page; so it is cached for the minute and two cheap queries tell whether the schedule
    changed since. An answer is at most a minute late for a handoff and never late for an edit.
    """
    now = now or timezone.now()
    key = _strip_key(now)
    found: list[OnCallBadge] | None = cache.get(key)
    if found is None:
        found = [
            OnCallBadge(
                role=answer.role.value,
                role_label=answer.role.label,
                person=answer.person.name if answer.person else None,
                in_coverage=answer.in_coverage,
                has_rotation=answer.rotation is not None,
                is_override=answer.is_override,
                shift_end=answer.shift_end,
                next_coverage_start=answer.next_coverage_start,
                next_person=answer.next_person.name if answer.next_person else None,
            )
            for answer in on_call_now(now=now)
        ]
        cache.set(key, found, ON_CALL_STRIP_SECONDS)
    return found


class LazyOnCallStrip:
    """Computed only when a template shows it (htmx partials and error pages do not)."""

    @cached_property
    def badges(self) -> list[OnCallBadge]:
        return on_call_strip()


def backline(request: HttpRequest) -> dict[str, Any]:
    """The person's roles (values and labels) for the header, which nav entries to show, and the
    on-call strip for people who may see schedules."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_roles": [], "my_role_labels": [], "can_view_tickets": False}
    order = list(Role)
    roles = sorted(user.roles, key=order.index)
    can_view_oncall = can(user, Action.ONCALL_VIEW)
    return {
        "my_roles": sorted(r.value for r in roles),
        "my_role_labels": [r.label for r in roles],
        "can_view_tickets": can(user, Action.TICKET_VIEW),
        "can_create_tickets": can(user, Action.TICKET_CREATE),
        "can_manage_tokens": can(user, Action.TOKEN_MANAGE_OWN),
        "can_view_oncall": can_view_oncall,
        "on_call": LazyOnCallStrip() if can_view_oncall else None,
    }
