"""Route tickets to whoever is on call, and write every decision to the ticket's timeline.

The rules (docs/oncall.md, "Routing"):
1. A ticket entering Tier 3 goes to the Tier 3 on-call engineer when Tier 3 coverage is open.
2. Outside Tier 3 coverage (or in a schedule gap) a Critical ticket goes to the Monitoring
   on-call engineer, and the routing entry is marked ``after_hours``.
3. Other tickets wait unassigned in the Tier 3 queue; a task runs `route_waiting_tickets` when
   coverage next opens and assigns them to whoever is on call then.
4. Escalations to the Monitoring or Investigator on-call target the person on call for that role;
   an Investigator request outside its business hours waits for the next opening the same way.

A ticket "waits" while its latest routing entry says so (``data.decision == "wait"``); routing it
later writes a newer entry, so running the waiting pass twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.oncall.models import OncallRole
from backline.oncall.selectors import OnCallAnswer, on_call_for
from backline.tickets.choices import OPEN_STATUSES, Priority, Status
from backline.tickets.models import Ticket, TimelineEntry, TimelineKind
from backline.tickets.services import ticket_assign

WAIT = "wait"
ASSIGN = "assign"
CLOSE_WAIT = "wait_over"


@dataclass(frozen=True)
class RoutingDecision:
    """What routing decided for one ticket, with the reason written to its timeline."""

    ticket_number: str
    decision: str  # ASSIGN, WAIT or CLOSE_WAIT
    role: OncallRole
    reason: str
    assignee: User | None = None
    after_hours: bool = False
    wait_until: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _when(at: datetime, answer: OnCallAnswer) -> str:
    zone = ZoneInfo(answer.rotation.time_zone if answer.rotation else "UTC")
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _label(role: OncallRole) -> str:
    return "Tier 3" if role == OncallRole.TIER3 else role.label.lower()


def _wait_reason(prefix: str, ticket: Ticket, role: OncallRole, answer: OnCallAnswer) -> str:
    priority = Priority(ticket.priority).label.lower()
    if answer.next_coverage_start is not None:
        then = f" (on call then: {answer.next_person.name})" if answer.next_person else ""
        return (
            f"{prefix}, {priority} -> waits unassigned for {_label(role)} coverage opening "
            f"{_when(answer.next_coverage_start, answer)}{then}"
        )
    return f"{prefix}, {priority} -> waits unassigned until someone is on call"


def _why_unavailable(role: OncallRole, answer: OnCallAnswer) -> str:
    if answer.rotation is None:
        return f"no active {_label(role)} rotation"
    if not answer.in_coverage:
        return f"outside {_label(role)} coverage"
    return f"inside {_label(role)} coverage but nobody is on call (schedule gap)"


def decide_tier3(ticket: Ticket, now: datetime) -> RoutingDecision:
    """The routing decision for a ticket entering Tier 3 at `now` (no writes)."""
    tier3 = on_call_for(role=OncallRole.TIER3, at=now)
    if tier3.available:
        assert tier3.person is not None
        return RoutingDecision(
            ticket.number,
            ASSIGN,
            OncallRole.TIER3,
            f"inside Tier 3 coverage -> Tier 3 on-call {tier3.person.name}",
            assignee=tier3.person,
        )
    why = _why_unavailable(OncallRole.TIER3, tier3)
    if ticket.priority == Priority.CRITICAL:
        monitoring = on_call_for(role=OncallRole.MONITORING, at=now)
        if monitoring.available:
            assert monitoring.person is not None
            return RoutingDecision(
                ticket.number,
                ASSIGN,
                OncallRole.MONITORING,
                f"{why}, critical -> monitoring on-call {monitoring.person.name}",
                assignee=monitoring.person,
                after_hours=True,
            )
        why = f"{why} and {_why_unavailable(OncallRole.MONITORING, monitoring)}"
    return RoutingDecision(
        ticket.number,
        WAIT,
        OncallRole.TIER3,
        _wait_reason(why, ticket, OncallRole.TIER3, tier3),
        wait_until=tier3.next_coverage_start,
    )


def decide_for_role(ticket: Ticket, role: OncallRole, now: datetime) -> RoutingDecision:
    """The decision for a request to the Monitoring or Investigator on-call at `now`."""
    answer = on_call_for(role=role, at=now)
    if answer.available:
        assert answer.person is not None
        return RoutingDecision(
            ticket.number,
            ASSIGN,
            role,
            f"inside {_label(role)} coverage -> {_label(role)} on-call {answer.person.name}",
            assignee=answer.person,
        )
    return RoutingDecision(
        ticket.number,
        WAIT,
        role,
        _wait_reason(_why_unavailable(role, answer), ticket, role, answer),
        wait_until=answer.next_coverage_start,
    )


def _record(ticket: Ticket, decision: RoutingDecision, actor: User | None) -> None:
    data: dict[str, Any] = {
        "decision": decision.decision,
        "role": decision.role.value,
        "after_hours": decision.after_hours,
        "assignee": decision.assignee.username if decision.assignee else None,
        "wait_until": decision.wait_until.isoformat() if decision.wait_until else None,
        **decision.data,
    }
    TimelineEntry.objects.create(
        ticket=ticket,
        actor=actor,
        kind=TimelineKind.ROUTING,
        field="assignee" if decision.assignee else "",
        new_value=decision.assignee.name if decision.assignee else "",
        body=decision.reason,
        data=data,
    )
    if decision.decision == ASSIGN and decision.assignee is not None:
        ticket_assign(ticket=ticket, actor=None, assignee=decision.assignee, reason=decision.reason)
        # Keep the caller's instance truthful: the escalation returns it.
        ticket.assignee = decision.assignee
    elif decision.decision == WAIT and decision.wait_until is not None:
        from backline.oncall.tasks import schedule_waiting_pass

        schedule_waiting_pass(at=decision.wait_until)


@transaction.atomic
def ticket_route_tier3(*, ticket: Ticket, now: datetime | None = None) -> RoutingDecision:
    """Route a ticket that has just entered Tier 3 (called by the escalation, in its transaction)."""
    decision = decide_tier3(ticket, now or timezone.now())
    _record(ticket, decision, None)
    return decision


def route_escalated_ticket(ticket: Ticket, actor: User) -> None:
    """The `escalated_to_tier3_hooks` entry: route at the moment of escalation."""
    ticket_route_tier3(ticket=ticket)


@transaction.atomic
def ticket_route_to_role(
    *, ticket: Ticket, actor: User, role: OncallRole | str, now: datetime | None = None
) -> RoutingDecision:
    """Send a Tier 3 ticket to the Monitoring or Investigator on-call (or queue it for their next
    coverage opening), written to the timeline with the reason."""
    require(actor, Action.TICKET_WORK)
    role = OncallRole(role)
    decision = decide_for_role(ticket, role, now or timezone.now())
    _record(ticket, decision, actor)
    return decision


def waiting_ticket_ids() -> list[int]:
    """Open tickets whose latest routing decision is to wait, oldest first."""
    from django.db.models import OuterRef, Subquery

    latest = (
        TimelineEntry.objects.filter(ticket=OuterRef("pk"), kind=TimelineKind.ROUTING)
        .order_by("-at", "-id")
        .values("id")[:1]
    )
    candidates = (
        Ticket.objects.filter(
            status__in=OPEN_STATUSES,
            timeline__kind=TimelineKind.ROUTING,
            timeline__data__decision=WAIT,
        )
        .annotate(latest_routing=Subquery(latest))
        .values_list("pk", "latest_routing")
        .distinct()
    )
    pairs = list(candidates)
    waiting_entries = set(
        TimelineEntry.objects.filter(
            pk__in=[entry for _, entry in pairs if entry is not None], data__decision=WAIT
        ).values_list("pk", flat=True)
    )
    return sorted(pk for pk, entry in pairs if entry in waiting_entries)


def _route_one(pk: int, now: datetime) -> RoutingDecision | None:
    """Re-decide one waiting ticket under its row lock; None when it no longer waits or still
    has to wait (nothing written)."""
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=pk)
    entry = ticket.timeline.filter(kind=TimelineKind.ROUTING).order_by("-at", "-id").first()
    if entry is None or entry.data.get("decision") != WAIT or ticket.status not in OPEN_STATUSES:
        return None  # another run got here first, or the ticket was closed meanwhile
    role = OncallRole(entry.data.get("role", OncallRole.TIER3))
    if role == OncallRole.TIER3 and (ticket.assignee_id is not None or ticket.status != Status.NEW):
        owner = ticket.assignee.name if ticket.assignee else "someone"
        decision = RoutingDecision(
            ticket.number,
            CLOSE_WAIT,
            role,
            f"no longer waiting for Tier 3 coverage: already taken by {owner}",
        )
        _record(ticket, decision, None)
        return decision
    decision = (
        decide_tier3(ticket, now)
        if role == OncallRole.TIER3
        else decide_for_role(ticket, role, now)
    )
    if decision.decision != ASSIGN:
        return None
    opened = f"{_label(role)} coverage opened"
    reason = decision.reason.replace(f"inside {_label(role)} coverage", opened, 1)
    decision = RoutingDecision(
        decision.ticket_number,
        ASSIGN,
        decision.role,
        reason,
        assignee=decision.assignee,
        after_hours=decision.after_hours,
        data={"waited_since": entry.at.isoformat()},
    )
    _record(ticket, decision, None)
    return decision


def route_waiting_tickets(*, now: datetime | None = None) -> list[RoutingDecision]:
    """Assign every waiting ticket whose role now has someone on call inside coverage.

    Safe to run twice or concurrently: each ticket is re-checked under its row lock, and a ticket
    routed once no longer has "wait" as its latest decision.
    """
    now = now or timezone.now()
    decisions: list[RoutingDecision] = []
    for pk in waiting_ticket_ids():
        with transaction.atomic():
            decision = _route_one(pk, now)
        if decision is not None:
            decisions.append(decision)
    return decisions
