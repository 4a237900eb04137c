"""Reads of tickets. ``ticket_for_user`` is the checkpoint for reaching one ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.audit.services import audit_record
from backline.errors import InvalidInput, NotFound
from backline.tickets.choices import OPEN_STATUSES, Area, Priority, SlaState, Status, Tier, Upstream
from backline.tickets.models import Ticket, TimelineEntry


def ticket_for_user(*, user: User, number: str) -> Ticket:
    """The ticket ``number`` if ``user`` may see it; raises NotFound or PermissionDenied."""
    require(user, Action.TICKET_VIEW)
    ticket = (
        Ticket.objects.select_related(
            "assignee", "created_by", "escalated_by", "acknowledged_by", "sla_calendar"
        )
        .filter(number__iexact=number.strip())
        .first()
    )
    if ticket is None:
        raise NotFound(f"No ticket {number}.")
    return ticket


@transaction.atomic
def ticket_identifier_for_user(*, user: User, ticket: Ticket, reason: str = "") -> str:
    """The affected user's identifier, unmasked, for roles that may see it; audited in the same transaction."""
    require(user, Action.IDENTIFIER_REVEAL)
    audit_record(
        actor=user,
        action="ticket.identifier.view",
        subject=ticket.affected_user_id,
        ticket_number=ticket.number,
        reason=reason or f"working {ticket.number}",
        unmasked=True,
    )
    return ticket.affected_user_id


def timeline_for_user(*, user: User, ticket: Ticket) -> QuerySet[TimelineEntry]:
    entries = ticket.timeline.select_related("actor")
    if not can(user, Action.COMMENT_INTERNAL):
        entries = entries.filter(internal=False)
    return entries


@dataclass(frozen=True)
class QueueFilters:
    tier: int | None = None
    mine: bool = False
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    assignee: str = ""  # username, or "none" for unassigned
    area: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    sla: tuple[str, ...] = ()
    text: str = ""
    include_closed: bool = False
    sort: str = "due"


SORTS = {
    "due": ("next_due_at", "id"),
    "-due": ("-next_due_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("-updated_at", "-id"),
    "priority": ("priority_rank", "next_due_at", "id"),
    "number": ("id",),
}


def _check_choices(name: str, values: tuple[str, ...], allowed: list[str]) -> None:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput(
            f"Unknown {name}: {', '.join(bad)}.", {name: [f"Choose from {', '.join(allowed)}."]}
        )


def tickets_for_queue(*, user: User, filters: QueueFilters, now: datetime) -> QuerySet[Ticket]:
    """Tickets for a queue view, filtered in the database, sorted by SLA due time by default."""
    require(user, Action.TICKET_VIEW)
    _check_choices("status", filters.status, Status.values)
    _check_choices("priority", filters.priority, Priority.values)
    _check_choices("area", filters.area, Area.values)
    _check_choices("upstream", filters.upstream, Upstream.values)
    _check_choices(
        "sla",
        filters.sla,
        [SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED, SlaState.PAUSED],
    )
    if filters.sort not in SORTS:
        raise InvalidInput(
            f"Unknown sort {filters.sort!r}.", {"sort": [f"Choose from {', '.join(SORTS)}."]}
        )
    if filters.tier is not None and filters.tier not in Tier.values:
        raise InvalidInput("Unknown tier.", {"tier": ["Choose 1, 2 or 3."]})

    qs = Ticket.objects.select_related("assignee", "sla_calendar")
    if filters.tier is not None:
        qs = qs.filter(tier=filters.tier)
    if filters.mine:
        qs = qs.filter(Q(assignee=user) | Q(created_by=user, tier__lt=Tier.TIER3))
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    elif not filters.include_closed:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        qs = qs.filter(assignee__username=filters.assignee)
    if filters.area:
        qs = qs.filter(area__in=filters.area)
    if filters.upstream:
        qs = qs.filter(suspected_upstream__in=filters.upstream)
    if filters.sla:
        qs = qs.filter(_sla_q(filters.sla, now))
    if filters.text:
        words = filters.text.split()
        for word in words[:8]:
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(number__iexact=word)
                | Q(external_refs__icontains=word)
            )
    qs = qs.annotate(
        priority_rank=Case(
            When(priority=Priority.CRITICAL, then=Value(0)),
            When(priority=Priority.HIGH, then=Value(1)),
            When(priority=Priority.MEDIUM, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )
    order = SORTS[filters.sort]
    if filters.sort == "due":
        return qs.order_by(F("next_due_at").asc(nulls_last=True), "id")
    return qs.order_by(*order)


def _sla_q(states: tuple[str, ...], now: datetime) -> Q:
    open_running = Q(status__in=OPEN_STATUSES, paused_at__isnull=True, sla_started_at__isnull=False)
    breached = (
        Q(ack_breached=True) | Q(resolve_breached=True) | (open_running & Q(next_due_at__lte=now))
    )
    at_risk = open_running & Q(next_risk_at__lte=now, next_due_at__gt=now) & ~breached
    paused = Q(paused_at__isnull=False, status__in=OPEN_STATUSES) & ~breached
    on_track = open_running & (Q(next_risk_at__gt=now) | Q(next_risk_at__isnull=True)) & ~breached
    parts = {
        SlaState.BREACHED: breached,
        SlaState.AT_RISK: at_risk,
        SlaState.PAUSED: paused,
        SlaState.ON_TRACK: on_track,
    }
    combined = Q(pk__in=[])
    for state in states:
        combined |= parts[SlaState(state)]
    return combined
