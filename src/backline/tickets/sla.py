"""SLA clocks on tickets: start, pause, resume, re-evaluate. Pure math is in calendars.businesstime.

Semantics (also in docs/sla-calendars.md):
1. The clock starts when the ticket first enters Tier 3 (escalated, or created there). Later moves
   between tiers (a question sent back to Tier 2 and answered) never restart it.
2. Targets are frozen on the ticket from the policy of its priority when the clock starts; a priority
   change re-evaluates them from the original start, and the timeline records it.
3. Waiting on requester / Waiting on partner pause the clock; it resumes when the ticket leaves those
   statuses. Paused business time does not count.
4. A target is at risk from 75% of its business time, breached past 100%.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backline.calendars.businesstime import BusinessCalendar
from backline.tickets.models import AT_RISK_FRACTION, SlaPolicy, Ticket


def _calendar(ticket: Ticket) -> BusinessCalendar:
    assert ticket.sla_calendar is not None
    return ticket.sla_calendar.to_business_calendar()


def _pauses(ticket: Ticket, now: datetime) -> list[tuple[datetime, datetime]]:
    return [p.interval(now) for p in ticket.pauses.all()]


def sla_start(ticket: Ticket, *, at: datetime) -> None:
    """Start the clock (idempotent: a running or finished clock is left alone)."""
    if ticket.sla_started_at is not None:
        return
    ticket.sla_started_at = at
    sla_apply_policy(ticket, now=at)


def sla_apply_policy(ticket: Ticket, *, now: datetime) -> None:
    """Freeze the targets of the ticket's priority on it and recompute its due moments."""
    policy = SlaPolicy.objects.select_related("calendar").filter(priority=ticket.priority).first()
    if policy is None:
        # No policy for this priority: the clock runs without targets (shown as "no target").
        ticket.ack_target_minutes = ticket.resolve_target_minutes = None
        ticket.sla_calendar = None
    else:
        ticket.ack_target_minutes = policy.acknowledge_minutes
        ticket.resolve_target_minutes = policy.resolve_minutes
        ticket.sla_calendar = policy.calendar
    sla_recompute(ticket, now=now)


def sla_recompute(ticket: Ticket, *, now: datetime) -> None:
    """Derive due and at-risk moments from the start, the frozen targets and the pauses.

    While paused, the due moments are projected as if the clock resumed now; the state says
    "paused" and queues sort paused tickets by that projection.
    """
    start = ticket.sla_started_at
    if start is None or ticket.sla_calendar is None:
        ticket.ack_due_at = ticket.ack_risk_at = ticket.resolve_due_at = None
        ticket.resolve_risk_at = ticket.next_due_at = ticket.next_risk_at = None
        return
    calendar = _calendar(ticket)
    pauses = _pauses(ticket, now) if ticket.pk else []

    def due(target_minutes: int | None, fraction: float = 1.0) -> datetime | None:
        if target_minutes is None:
            return None
        business = timedelta(seconds=round(target_minutes * 60 * fraction))
        return calendar.add(start, business, paused=pauses)

    ticket.ack_due_at = due(ticket.ack_target_minutes)
    ticket.ack_risk_at = due(ticket.ack_target_minutes, AT_RISK_FRACTION)
    ticket.resolve_due_at = due(ticket.resolve_target_minutes)
    ticket.resolve_risk_at = due(ticket.resolve_target_minutes, AT_RISK_FRACTION)
    if ticket.acknowledged_at is None:
        ticket.next_due_at, ticket.next_risk_at = ticket.ack_due_at, ticket.ack_risk_at
    else:
        ticket.next_due_at, ticket.next_risk_at = ticket.resolve_due_at, ticket.resolve_risk_at
    if ticket.acknowledged_at and ticket.ack_due_at:
        ticket.ack_breached = ticket.acknowledged_at > ticket.ack_due_at
    if ticket.resolved_at and ticket.resolve_due_at:
        ticket.resolve_breached = ticket.resolved_at > ticket.resolve_due_at


def sla_remaining(ticket: Ticket, *, now: datetime) -> timedelta | None:
    """Business time left until the current target (negative once breached), or None."""
    if ticket.next_due_at is None or ticket.sla_calendar is None or not ticket.is_open:
        return None
    calendar = _calendar(ticket)
    if now <= ticket.next_due_at:
        return calendar.elapsed(now, ticket.next_due_at)
    return -calendar.elapsed(ticket.next_due_at, now)
