"""Background tasks of the notify app. Each takes ids or moments, calls a service, is safe to rerun.

Delivery tasks run at a higher priority than timers, so that a burst of due timers does not keep
the notifications they write waiting behind the rest of the burst.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from backline.notify import services, timers
from backline.notify.models import Clock

DELIVERY_PRIORITY = 20
TIMER_PRIORITY = 10
GAP_CHECK_EVERY = timedelta(hours=6)
GAP_HORIZON_DAYS = 7


@task(priority=DELIVERY_PRIORITY)
def deliver(delivery_id: int) -> str:
    """Attempt one outbox row (see ``services.delivery_attempt``)."""
    return str(services.delivery_attempt(delivery_id=delivery_id))


@task(priority=TIMER_PRIORITY)
def sla_timer(ticket_id: int, kind: str, scheduled_for: str) -> bool:
    """Fire one SLA timer if the moment it carries is still the ticket's current one."""
    return timers.timer_fire(
        ticket_id=ticket_id, kind=kind, scheduled_for=datetime.fromisoformat(scheduled_for)
    )


def _sweep_every() -> timedelta:
    return timedelta(seconds=settings.NOTIFY_SWEEP_SECONDS)


def _clock_next(name: str, scheduled_for: datetime, every: timedelta) -> bool:
    """Move clock ``name`` on from ``scheduled_for``; True when this run owns the chain.

    Only the run matching the stored moment may schedule the next one, so a duplicated chain
    (two ensures racing, a task delivered twice) dies out instead of doubling.
    """
    next_at = timezone.now() + every
    with transaction.atomic():
        won = Clock.objects.filter(name=name, due_at=scheduled_for).update(due_at=next_at)
        if won == 1:
            transaction.on_commit(
                lambda: clock_task.using(run_after=next_at).enqueue(name, next_at.isoformat())
            )
    return won == 1


def _clock_ensure(name: str, every: timedelta) -> None:
    """Start clock ``name`` if it never ran or its chain broke (its task was lost)."""
    now = timezone.now()
    clock, created = Clock.objects.get_or_create(name=name, defaults={"due_at": now})
    if not created:
        if clock.due_at > now - every - _sweep_every():
            return
        if Clock.objects.filter(pk=clock.pk, due_at=clock.due_at).update(due_at=now) != 1:
            return
    clock_task.enqueue(name, now.isoformat())


def sweep_ensure() -> None:
    """Make sure the outbox sweep runs (called whenever a delivery is enqueued)."""
    _clock_ensure("outbox_sweep", _sweep_every())


@task(priority=TIMER_PRIORITY)
def clock_task(name: str, scheduled_for: str) -> int:
    """One run of a self-rescheduling job: the outbox sweep or the on-call gap check."""
    moment = datetime.fromisoformat(scheduled_for)
    if name == "outbox_sweep":
        if not _clock_next(name, moment, _sweep_every()):
            return 0
        _clock_ensure("oncall_gaps", GAP_CHECK_EVERY)
        return services.outbox_sweep()
    if name == "oncall_gaps":
        if not _clock_next(name, moment, GAP_CHECK_EVERY):
            return 0
        now = timezone.now()
        gaps = services.gaps_lookup(now, GAP_HORIZON_DAYS)
        return len(services.notify_oncall_gaps(gaps=gaps, now=now))
    return 0


@task(priority=TIMER_PRIORITY)
def handoff_reminder(handoff_id: int, before: str, handoff_at: str) -> int:
    """Remind about one handoff. INTEGRATION POINT: the oncall app enqueues this for
    ``at - 1 day`` and ``at - 1 hour`` (see ``schedule_handoff_reminders``); stale when the handoff
    moved or is gone."""
    try:
        from backline.oncall.models import Handoff
    except ImportError:
        return 0
    handoff = (
        Handoff.objects.select_related("outgoing", "incoming", "rotation")
        .filter(pk=handoff_id)
        .first()
    )
    if handoff is None or handoff.at.isoformat() != handoff_at:
        return 0
    with transaction.atomic():
        return len(
            services.notify_handoff_reminder(handoff=handoff, before=before, now=timezone.now())
        )


def schedule_handoff_reminders(*, handoff_id: int, at: datetime) -> None:
    """Enqueue (on commit) the day-before and hour-before reminders for a handoff at ``at``."""
    now = timezone.now()
    for before, delta in (("day", timedelta(days=1)), ("hour", timedelta(hours=1))):
        moment = at - delta
        if moment <= now:
            continue
        transaction.on_commit(partial(_enqueue_reminder, handoff_id, before, at, moment))


def _enqueue_reminder(handoff_id: int, before: str, at: datetime, moment: datetime) -> None:
    handoff_reminder.using(run_after=moment).enqueue(handoff_id, before, at.isoformat())
