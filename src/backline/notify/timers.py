"""SLA timers: one task per SLA moment, scheduled for that exact moment, cancelled by staleness.

A ticket has up to four moments (acknowledgement at risk and due, resolution at risk and due),
derived by tickets/sla.py. ``timers_sync`` runs inside every ticket event's transaction and keeps
one ``SlaTimer`` row per kind holding the moment currently wanted; when the moment changes it
enqueues a task (on commit) with ``run_after`` equal to that moment. Nothing is ever dequeued:

1. a timer task carries the moment it was scheduled for;
2. when it runs, it re-derives the ticket's current moment; if they differ (paused, resumed,
   reprioritised, acknowledged, resolved) the task is stale and does nothing;
3. otherwise one conditional UPDATE marks the row fired for that moment; only the run that wins
   writes the notifications, so a timer delivered twice notifies once.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from backline.notify.models import Event, SlaTimer, TimerKind
from backline.tickets.models import Ticket

EVENT_FOR_KIND = {
    TimerKind.ACK_RISK: Event.SLA_ACK_AT_RISK,
    TimerKind.ACK_DUE: Event.SLA_ACK_BREACHED,
    TimerKind.RESOLVE_RISK: Event.SLA_RESOLVE_AT_RISK,
    TimerKind.RESOLVE_DUE: Event.SLA_RESOLVE_BREACHED,
}
DUE_FOR_RISK = {
    TimerKind.ACK_RISK: TimerKind.ACK_DUE,
    TimerKind.RESOLVE_RISK: TimerKind.RESOLVE_DUE,
}


def moments(ticket: Ticket) -> dict[TimerKind, datetime | None]:
    """The moment each timer should fire now; None when it should not fire at all.

    Nothing fires for a closed, canceled or resolved ticket, nor while the clock is paused
    (the due moments stored during a pause are projections, see tickets/sla.py); the
    acknowledgement timers stop once the ticket is acknowledged (the target is met).
    """
    none: dict[TimerKind, datetime | None] = dict.fromkeys(TimerKind, None)
    if ticket.sla_started_at is None or not ticket.is_open or ticket.is_paused:
        return none
    found = dict(none)
    if ticket.acknowledged_at is None:
        found[TimerKind.ACK_RISK] = ticket.ack_risk_at
        found[TimerKind.ACK_DUE] = ticket.ack_due_at
    if ticket.resolved_at is None:
        found[TimerKind.RESOLVE_RISK] = ticket.resolve_risk_at
        found[TimerKind.RESOLVE_DUE] = ticket.resolve_due_at
    return found


def _enqueue(ticket_id: int, kind: str, moment: datetime) -> None:
    from backline.notify import tasks

    tasks.sla_timer.using(run_after=moment).enqueue(ticket_id, kind, moment.isoformat())


def timers_sync(*, ticket: Ticket, now: datetime) -> int:
    """Bring the ticket's timers in line with its moments; returns how many were (re)scheduled.

    Call inside the transaction that changed the ticket, so timers and ticket commit together.
    """
    wanted = moments(ticket)
    existing = {t.kind: t for t in SlaTimer.objects.filter(ticket_id=ticket.pk)}
    scheduled = 0
    for kind, moment in wanted.items():
        row = existing.get(kind)
        if moment is None:
            if row is not None and row.due_at is not None and row.fired_at is None:
                row.due_at = None
                row.save(update_fields=["due_at"])
            continue
        if row is not None and row.due_at == moment:
            continue  # already scheduled (or already fired) for this very moment
        if row is None:
            SlaTimer.objects.create(ticket_id=ticket.pk, kind=kind, due_at=moment)
        else:
            row.due_at, row.fired_at = moment, None
            row.save(update_fields=["due_at", "fired_at"])
        transaction.on_commit(partial(_enqueue, ticket.pk, kind, moment))
        scheduled += 1
    return scheduled


def timer_fire(*, ticket_id: int, kind: str, scheduled_for: datetime) -> bool:
    """Run one timer: notify if its moment is still the current one and nobody fired it yet."""
    from backline.notify.services import notify_sla

    now = timezone.now()
    timer_kind = TimerKind(kind)
    with transaction.atomic():
        ticket = Ticket.objects.select_related("assignee").filter(pk=ticket_id).first()
        if ticket is None:
            return False
        current = moments(ticket)
        if current[timer_kind] != scheduled_for:
            return False  # stale: rescheduled, cancelled, or the target was met
        due_kind = DUE_FOR_RISK.get(timer_kind)
        won = SlaTimer.objects.filter(
            ticket_id=ticket_id, kind=kind, due_at=scheduled_for, fired_at__isnull=True
        ).update(fired_at=now)
        if won != 1:
            return False
        if due_kind is not None and (due := current[due_kind]) is not None and due <= now:
            return False  # already breached: the breach notice says it, not a late warning
        notify_sla(ticket=ticket, event=EVENT_FOR_KIND[timer_kind], due_at=scheduled_for, now=now)
    return True
