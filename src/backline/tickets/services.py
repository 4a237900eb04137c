"""Writes to tickets. Each public function is one action, in one transaction, with its timeline rows.

Naming: ``ticket_<verb>(*, ticket, actor, ...)``. Permission checks happen here, so the UI, the API
and background tasks all obey the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.accounts.roles import Role
from backline.errors import Conflict, InvalidInput
from backline.tickets import sla
from backline.tickets.choices import (
    PAUSED_STATUSES,
    TRANSITIONS,
    Area,
    Priority,
    Status,
    Tier,
)
from backline.tickets.models import Ticket, TicketPause, TimelineEntry, TimelineKind

NUMBER_PREFIX = "BL-"
NUMBER_OFFSET = 1000

# Fields a person may set when creating or escalating a ticket.
CONTEXT_FIELDS = (
    "title",
    "description",
    "priority",
    "affected_user_id",
    "area",
    "suspected_upstream",
    "occurred_at",
    "occurred_until",
    "device",
    "browser",
    "os",
    "credential",
    "oracle_health_site",
    "url",
    "external_refs",
    "steps_to_reproduce",
    "expected_behaviour",
    "actual_behaviour",
    "troubleshooting_steps",
    "entry_criterion",
)

# Hooks other apps register (routing, notifications) so tickets never import them.
escalated_to_tier3_hooks: list[Callable[[Ticket, User], None]] = []
changed_hooks: list[Callable[[Ticket, str, User | None], None]] = []
# Called inside the event's transaction (notify writes its outbox rows there, so they commit or
# roll back with the event); changed_hooks run after commit.
in_transaction_hooks: list[Callable[[Ticket, str, User | None], None]] = []


def _now() -> datetime:
    return timezone.now()


def _log(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    *,
    field: str = "",
    old: object = "",
    new: object = "",
    body: str = "",
    internal: bool = False,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        field=field,
        old_value=str(old)[:200],
        new_value=str(new)[:200],
        body=body,
        internal=internal,
        data=data or {},
    )


def _notify_changed(ticket: Ticket, event: str, actor: User | None) -> None:
    for in_transaction_hook in in_transaction_hooks:
        in_transaction_hook(ticket, event, actor)
    for hook in changed_hooks:
        transaction.on_commit(partial(hook, ticket, event, actor))


def _clean_steps(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        raise InvalidInput(
            "Troubleshooting steps must be a list.",
            {"troubleshooting_steps": ["Give a list of steps already performed."]},
        )
    return [str(step).strip() for step in value if str(step).strip()]


def _clean_refs(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    if not isinstance(value, list | tuple):
        raise InvalidInput(
            "External references must be a list.", {"external_refs": ["Give a list of numbers."]}
        )
    return [str(ref).strip() for ref in value if str(ref).strip()]


def _apply_fields(ticket: Ticket, fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(CONTEXT_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(unknown)}.", {name: ["Unknown field."] for name in unknown}
        )
    for name, value in fields.items():
        if name == "troubleshooting_steps":
            value = _clean_steps(value)
        elif name == "external_refs":
            value = _clean_refs(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(ticket, name, value)


def _full_clean(ticket: Ticket) -> None:
    try:
        ticket.full_clean(exclude=["number", "created_by"])
    except ValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        raise InvalidInput(_summarise(fields), fields) from None
    if ticket.occurred_at and ticket.occurred_until and ticket.occurred_until < ticket.occurred_at:
        raise InvalidInput(
            "The end of the window is before its start.",
            {"occurred_until": ["Must be after 'when it happened'."]},
        )


def _summarise(fields: Mapping[str, list[str]]) -> str:
    return "Please correct: " + "; ".join(
        f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()
    )


def missing_context(ticket: Ticket, to_tier: int) -> dict[str, list[str]]:
    """What an escalation to ``to_tier`` lacks, field by field (empty when complete)."""
    missing: dict[str, list[str]] = {}
    if to_tier >= Tier.TIER2 and not ticket.troubleshooting_steps:
        missing["troubleshooting_steps"] = [
            "List at least one troubleshooting step already performed."
        ]
    if to_tier >= Tier.TIER3:
        if not ticket.affected_user_id:
            missing["affected_user_id"] = [
                "Give the affected portal user's identifier (ICN or UUID)."
            ]
        if ticket.occurred_at is None:
            missing["occurred_at"] = ["Say when it happened (a time or the start of a window)."]
        if not ticket.entry_criterion:
            missing["entry_criterion"] = ["Choose which Tier 3 entry criterion applies."]
        if ticket.area == Area.APPOINTMENTS:
            missing["area"] = [
                "Appointments issues are out of Tier 3 scope; route them to the scheduling team."
            ]
    return missing


def _require_context(ticket: Ticket, to_tier: int) -> None:
    missing = missing_context(ticket, to_tier)
    if missing:
        raise InvalidInput(
            f"Cannot escalate to Tier {to_tier}: missing {', '.join(missing)}.", missing
        )


def _entry_tier(actor: User, requested: int | None) -> int:
    """The tier a new ticket starts at: the creator's own tier unless they ask for a lower one."""
    if actor.has_role(Role.TIER3, Role.MONITORING, Role.INVESTIGATOR, Role.MANAGER, Role.ADMIN):
        highest = Tier.TIER3
    elif actor.has_role(Role.TIER2):
        highest = Tier.TIER2
    else:
        highest = Tier.TIER1
    tier = requested or highest
    if tier not in Tier.values:
        raise InvalidInput("Unknown tier.", {"tier": ["Choose Tier 1, 2 or 3."]})
    if tier > highest:
        raise InvalidInput(
            f"You can open tickets at Tier {highest} at most; escalate it instead.",
            {"tier": [f"At most Tier {highest} for your roles."]},
        )
    return tier


@transaction.atomic
def ticket_create(*, actor: User, fields: Mapping[str, Any], tier: int | None = None) -> Ticket:
    """Open a ticket at the creator's tier (or a lower one). At Tier 3 the full context is required."""
    require(actor, Action.TICKET_CREATE)
    ticket = Ticket(created_by=actor)
    _apply_fields(ticket, fields)
    ticket.tier = _entry_tier(actor, tier)
    _full_clean(ticket)
    if ticket.tier >= Tier.TIER2:
        _require_context(ticket, ticket.tier)
    now = _now()
    ticket.save()
    ticket.number = f"{NUMBER_PREFIX}{NUMBER_OFFSET + ticket.pk}"
    ticket.save(update_fields=["number"])
    _log(ticket, actor, TimelineKind.CREATED, new=ticket.get_tier_display(), body=ticket.title)
    if ticket.tier == Tier.TIER3:
        _enter_tier3(ticket, actor, now)
    return ticket


def _enter_tier3(ticket: Ticket, actor: User, now: datetime) -> None:
    sla.sla_start(ticket, at=now)
    ticket.save()
    for hook in escalated_to_tier3_hooks:
        hook(ticket, actor)
    _notify_changed(ticket, "escalated_tier3", actor)


@transaction.atomic
def ticket_escalate(
    *, ticket: Ticket, actor: User, to_tier: int, context: Mapping[str, Any] | None = None
) -> Ticket:
    """Move a ticket up one or two tiers with the context the next tier needs; nothing saved if any is missing."""
    ticket = _lock(ticket)
    if to_tier not in (Tier.TIER2, Tier.TIER3) or to_tier <= ticket.tier:
        raise Conflict(
            f"{ticket.number} is at Tier {ticket.tier}; it can only be escalated to a higher tier."
        )
    require(
        actor,
        Action.TICKET_ESCALATE_TIER3 if to_tier == Tier.TIER3 else Action.TICKET_ESCALATE_TIER2,
    )
    if not ticket.is_open:
        raise Conflict(f"{ticket.number} is {ticket.get_status_display()}; reopen it first.")
    before = ticket.tier
    _apply_fields(ticket, context or {})
    _full_clean(ticket)
    _require_context(ticket, to_tier)
    now = _now()
    ticket.tier = to_tier
    ticket.escalated_by = actor
    ticket.status = Status.NEW
    ticket.assignee = None
    _close_pause(ticket, now)
    ticket.save()
    _log(
        ticket,
        actor,
        TimelineKind.ESCALATED,
        field="tier",
        old=f"Tier {before}",
        new=f"Tier {to_tier}",
        data={"steps": ticket.troubleshooting_steps, "entry_criterion": ticket.entry_criterion},
    )
    if to_tier == Tier.TIER3:
        _enter_tier3(ticket, actor, now)
    return ticket


def _lock(ticket: Ticket) -> Ticket:
    """Re-read the row under a lock (PostgreSQL row lock; SQLite serialises writers anyway)."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_calendar", "assignee")
        .get(pk=ticket.pk)
    )


def _check_transition(ticket: Ticket, to: str) -> None:
    if to not in TRANSITIONS[ticket.status]:
        allowed = ticket.allowed_transitions()
        names = ", ".join(Status(s).label for s in allowed) or "none (final status)"
        raise Conflict(
            f"{ticket.number} cannot go from {ticket.get_status_display()} to "
            f"{Status(to).label}. Allowed: {names}.",
            allowed=allowed,
        )


def _open_pause(ticket: Ticket, now: datetime, reason: str) -> None:
    if ticket.paused_at is None and ticket.sla_started_at is not None:
        ticket.paused_at = now
        TicketPause.objects.create(ticket=ticket, started_at=now, reason=reason)


def _close_pause(ticket: Ticket, now: datetime) -> None:
    if ticket.paused_at is not None:
        ticket.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        ticket.paused_at = None


def _set_status(
    ticket: Ticket, actor: User | None, to: str, *, body: str = "", now: datetime
) -> None:
    _check_transition(ticket, to)
    before = ticket.status
    ticket.status = to
    if to in PAUSED_STATUSES:
        _open_pause(ticket, now, to)
    else:
        _close_pause(ticket, now)
    if to == Status.RESOLVED:
        ticket.resolved_at = now
    elif to == Status.CLOSED:
        ticket.closed_at = now
    elif before == Status.RESOLVED:
        ticket.resolved_at = None
        ticket.resolve_breached = False
    sla.sla_recompute(ticket, now=now)
    ticket.save()
    _log(
        ticket,
        actor,
        TimelineKind.STATUS,
        field="status",
        old=Status(before).label,
        new=Status(to).label,
        body=body,
    )


def _require_tier3_work(ticket: Ticket, actor: User) -> None:
    require(actor, Action.TICKET_WORK)
    if ticket.tier != Tier.TIER3:
        raise Conflict(
            f"{ticket.number} is at Tier {ticket.tier}; Tier 3 actions need it at Tier 3."
        )


@transaction.atomic
def ticket_acknowledge(*, ticket: Ticket, actor: User) -> Ticket:
    """Take ownership of a Tier 3 ticket. Exactly one engineer wins a race; the other is told who.

    Acknowledgement is the first action by a Tier 3 engineer that takes ownership: this action, or
    moving a New ticket to Investigating. Steps:
    1. a conditional UPDATE claims the row only while ``acknowledged_at`` is still empty;
    2. if it touched no row, someone else acknowledged first: report who, change nothing;
    3. otherwise write the timeline and recompute the SLA (the next target becomes resolution).
    """
    require(actor, Action.TICKET_ACKNOWLEDGE)
    if ticket.tier != Tier.TIER3:
        raise Conflict(
            f"{ticket.number} is at Tier {ticket.tier}; only Tier 3 tickets are acknowledged."
        )
    now = _now()
    claimed = Ticket.objects.filter(
        pk=ticket.pk, acknowledged_at__isnull=True, status=Status.NEW
    ).update(
        acknowledged_at=now,
        acknowledged_by=actor,
        assignee=actor,
        status=Status.ACKNOWLEDGED,
        updated_at=now,
    )
    fresh = Ticket.objects.select_related("acknowledged_by", "sla_calendar").get(pk=ticket.pk)
    if claimed != 1:
        if fresh.acknowledged_by is not None:
            raise Conflict(
                f"{fresh.number} was already acknowledged by {fresh.acknowledged_by.name} "
                f"at {timezone.localtime(fresh.acknowledged_at):%Y-%m-%d %H:%M}."
            )
        raise Conflict(
            f"{fresh.number} is {fresh.get_status_display()}; only New tickets can be acknowledged.",
            allowed=fresh.allowed_transitions(),
        )
    sla.sla_recompute(fresh, now=now)
    fresh.save()
    _log(fresh, actor, TimelineKind.ACKNOWLEDGED, field="status", old="New", new="Acknowledged")
    _log(fresh, actor, TimelineKind.ASSIGNED, field="assignee", old="", new=actor.name)
    _notify_changed(fresh, "acknowledged", actor)
    return fresh


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, actor: User, to: str, note: str = "") -> Ticket:
    """Move a Tier 3 ticket through the status machine (resolve, send back and reopen have their own)."""
    ticket = _lock(ticket)
    if to not in Status.values:
        raise InvalidInput(
            f"Unknown status {to!r}.", {"status": [f"Choose one of {', '.join(Status.values)}."]}
        )
    if to == Status.RESOLVED:
        raise InvalidInput(
            "Use resolve, which records the resolution.", {"status": ["Use resolve."]}
        )
    if to == Status.CANCELED:
        return ticket_cancel(ticket=ticket, actor=actor, reason=note)
    if to == Status.ACKNOWLEDGED:
        # Only the race-safe claim may acknowledge (it sets the owner and the SLA target).
        return ticket_acknowledge(ticket=ticket, actor=actor)
    _require_tier3_work(ticket, actor)
    if to == Status.WAITING_REQUESTER:
        return ticket_send_back(ticket=ticket, actor=actor, question=note)
    now = _now()
    if to == Status.WAITING_PARTNER:
        if not note:
            raise InvalidInput(
                "Say which partner team you are waiting on.", {"note": ["Name the partner team."]}
            )
        ticket.waiting_on = note[:100]
    _check_transition(ticket, to)
    if (
        ticket.acknowledged_at is None
        and to == Status.INVESTIGATING
        and can(actor, Action.TICKET_ACKNOWLEDGE)
    ):
        # Starting work on a New ticket is the first ownership action: it acknowledges.
        ticket.acknowledged_at = now
        ticket.acknowledged_by = actor
        ticket.assignee = actor
        _log(
            ticket,
            actor,
            TimelineKind.ACKNOWLEDGED,
            body="Acknowledged by starting the investigation.",
        )
        # The row lock taken by _lock() makes this safe against a concurrent acknowledge: that
        # conditional UPDATE waits for this transaction, then finds the ticket owned.
        _notify_changed(ticket, "acknowledged", actor)
    _set_status(ticket, actor, to, body=note, now=now)
    _notify_changed(ticket, "status", actor)
    return ticket


@transaction.atomic
def ticket_send_back(*, ticket: Ticket, actor: User, question: str) -> Ticket:
    """Tier 3 asks Tier 2 a question: the ticket goes to Tier 2, Waiting on requester, clock paused."""
    ticket = _lock(ticket)
    _require_tier3_work(ticket, actor)
    if not question.strip():
        raise InvalidInput(
            "Write the question for Tier 2.", {"question": ["This field is required."]}
        )
    now = _now()
    _check_transition(ticket, Status.WAITING_REQUESTER)
    ticket.tier = Tier.TIER2
    _set_status(ticket, actor, Status.WAITING_REQUESTER, now=now)
    _log(
        ticket,
        actor,
        TimelineKind.SENT_BACK,
        field="tier",
        old="Tier 3",
        new="Tier 2",
        body=question.strip(),
    )
    _notify_changed(ticket, "sent_back", actor)
    return ticket


@transaction.atomic
def ticket_answer(*, ticket: Ticket, actor: User, answer: str) -> Ticket:
    """Tier 2 answers Tier 3's question: back to Tier 3, Investigating, clock resumes (not reset)."""
    ticket = _lock(ticket)
    require(actor, Action.TICKET_ANSWER)
    if not (ticket.status == Status.WAITING_REQUESTER and ticket.sla_started_at is not None):
        raise Conflict(f"{ticket.number} is not waiting on an answer for Tier 3.")
    if not answer.strip():
        raise InvalidInput("Write the answer for Tier 3.", {"answer": ["This field is required."]})
    now = _now()
    ticket.tier = Tier.TIER3
    _set_status(ticket, actor, Status.INVESTIGATING, now=now)
    _log(
        ticket,
        actor,
        TimelineKind.ANSWERED,
        field="tier",
        old="Tier 2",
        new="Tier 3",
        body=answer.strip(),
    )
    _notify_changed(ticket, "answered", actor)
    return ticket


@transaction.atomic
def ticket_comment(
    *, ticket: Ticket, actor: User, body: str, internal: bool = False
) -> TimelineEntry:
    """Add a comment: internal (Tier 3 and up only) or shared with the lower tiers."""
    require(actor, Action.COMMENT_INTERNAL if internal else Action.COMMENT_SHARED)
    if not body.strip():
        raise InvalidInput("The comment is empty.", {"body": ["This field is required."]})
    entry = _log(ticket, actor, TimelineKind.COMMENT, body=body.strip(), internal=internal)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=_now())
    return entry


@transaction.atomic
def ticket_note_evidence(
    *, ticket: Ticket, actor: User, summary: str, data: dict[str, Any]
) -> TimelineEntry:
    """Say on the timeline that log evidence was pinned or unpinned (the workbench keeps it).

    ``summary`` must already be masked: the entry is shared with every tier that sees the ticket.
    """
    entry = _log(ticket, actor, TimelineKind.COMMENT, body=summary, data=data)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=_now())
    return entry


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    actor: User,
    summary: str,
    root_cause: str,
    workaround: str = "",
    code_change_needed: bool | None = None,
    follow_up_url: str = "",
) -> Ticket:
    """Resolve with a summary and root cause; optionally a workaround and an engineering follow-up."""
    ticket = _lock(ticket)
    if ticket.tier == Tier.TIER3:
        _require_tier3_work(ticket, actor)
    else:
        require(actor, Action.TICKET_CANCEL)  # lower tiers resolve their own tickets
    ticket.resolution_summary = summary.strip()
    ticket.root_cause = root_cause
    ticket.workaround = workaround.strip()
    ticket.code_change_needed = code_change_needed
    ticket.follow_up_url = follow_up_url.strip()
    errors: dict[str, list[str]] = {}
    if not ticket.resolution_summary:
        errors["summary"] = ["Summarise the resolution."]
    if not root_cause:
        errors["root_cause"] = ["Choose a root cause category."]
    if errors:
        raise InvalidInput(_summarise(errors), errors)
    _full_clean(ticket)
    _set_status(ticket, actor, Status.RESOLVED, body=ticket.resolution_summary, now=_now())
    _log(
        ticket,
        actor,
        TimelineKind.RESOLVED,
        body=ticket.resolution_summary,
        data={
            "root_cause": root_cause,
            "workaround": ticket.workaround,
            "follow_up_url": ticket.follow_up_url,
        },
    )
    _notify_changed(ticket, "resolved", actor)
    from backline.tickets.tasks import schedule_auto_close

    schedule_auto_close(ticket=ticket)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: User, reason: str) -> Ticket:
    """Reopen a Resolved ticket (a Closed one cannot be reopened: open a new ticket)."""
    ticket = _lock(ticket)
    require(actor, Action.TICKET_REOPEN)
    if ticket.status != Status.RESOLVED:
        # The status machine alone would let New or Acknowledged "reopen" into Investigating.
        raise Conflict(
            f"{ticket.number} is {ticket.get_status_display()}; only a Resolved ticket can be reopened.",
            allowed=ticket.allowed_transitions(),
        )
    if not reason.strip():
        raise InvalidInput(
            "Say why the ticket is reopened.", {"reason": ["This field is required."]}
        )
    _set_status(ticket, actor, Status.INVESTIGATING, body=reason.strip(), now=_now())
    _log(ticket, actor, TimelineKind.REOPENED, body=reason.strip())
    _notify_changed(ticket, "reopened", actor)
    return ticket


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, actor: User, reason: str) -> Ticket:
    ticket = _lock(ticket)
    if ticket.tier == Tier.TIER3:
        _require_tier3_work(ticket, actor)
    else:
        require(actor, Action.TICKET_CANCEL)
    if not reason.strip():
        raise InvalidInput(
            "Say why the ticket is canceled.", {"reason": ["This field is required."]}
        )
    _set_status(ticket, actor, Status.CANCELED, body=reason.strip(), now=_now())
    _notify_changed(ticket, "canceled", actor)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, actor: User, priority: str, reason: str = "") -> Ticket:
    """Change priority; the SLA targets are re-evaluated from the ticket's original start."""
    ticket = _lock(ticket)
    require(actor, Action.TICKET_REPRIORITISE)
    if priority not in Priority.values:
        raise InvalidInput(
            f"Unknown priority {priority!r}.",
            {"priority": [f"Choose one of {', '.join(Priority.values)}."]},
        )
    if not ticket.is_open:
        raise Conflict(f"{ticket.number} is {ticket.get_status_display()}; reopen it first.")
    if priority == ticket.priority:
        return ticket
    before = ticket.get_priority_display()
    old_due = ticket.next_due_at
    ticket.priority = priority
    now = _now()
    if ticket.sla_started_at is not None:
        sla.sla_apply_policy(ticket, now=now)
    ticket.save()
    _log(
        ticket,
        actor,
        TimelineKind.PRIORITY,
        field="priority",
        old=before,
        new=ticket.get_priority_display(),
        body=reason,
        data={
            "old_due": old_due.isoformat() if old_due else None,
            "new_due": ticket.next_due_at.isoformat() if ticket.next_due_at else None,
        },
    )
    _notify_changed(ticket, "priority", actor)
    return ticket


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, actor: User | None, assignee: User | None, reason: str
) -> Ticket:
    """Set the assignee (routing, handoff, or a lead reassigning). ``actor`` None means the system."""
    if actor is not None:
        require(actor, Action.TICKET_WORK)
    ticket = _lock(ticket)
    before = ticket.assignee.name if ticket.assignee else "unassigned"
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    _log(
        ticket,
        actor,
        TimelineKind.ASSIGNED,
        field="assignee",
        old=before,
        new=assignee.name if assignee else "unassigned",
        body=reason,
    )
    return ticket


def tickets_close_resolved(*, now: datetime | None = None, after: timedelta) -> int:
    """Close tickets Resolved for longer than ``after``. Safe to run twice; returns how many closed."""
    now = now or _now()
    closed = 0
    for pk in Ticket.objects.filter(
        status=Status.RESOLVED, resolved_at__lte=now - after
    ).values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status != Status.RESOLVED:
                continue
            _set_status(
                ticket, None, Status.CLOSED, body="Closed automatically after resolution.", now=now
            )
            closed += 1
    return closed
