"""Background tasks of on-call: handoffs at boundaries, transfers after the grace period, routing of
waiting tickets when coverage opens. Each takes ids, calls an idempotent service, and is enqueued
on commit with ``run_after``; running one twice changes nothing the second time.

`oncall_tick` (management command) runs the same services for "now" from cron, as a safety net
for a worker that was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from backline.accounts.models import User
from backline.oncall import adapters, schedule
from backline.oncall.models import Handoff, OncallRole, Rotation

_ONE_MICROSECOND = timedelta(microseconds=1)


# --- scheduling helpers (called inside service transactions) ----------------------------------


def schedule_waiting_pass(*, at: datetime) -> None:
    """Run the waiting-ticket pass when coverage opens at `at`."""
    transaction.on_commit(lambda: route_waiting_tickets_task.using(run_after=at).enqueue())


def schedule_handoff_transfer(*, handoff: Handoff) -> None:
    """Run the grace-period transfer for `handoff` when its grace period ends."""
    from backline.oncall.handoff import grace_period

    run_after = handoff.at + grace_period()
    pk = handoff.pk
    transaction.on_commit(lambda: handoff_transfer_task.using(run_after=run_after).enqueue(pk))


def next_boundary(rotation: Rotation, after: datetime) -> datetime | None:
    """The rotation's first handoff strictly after `after` (None for an empty rotation)."""
    horizon = after + 2 * adapters.turn_duration(rotation) + timedelta(days=8)
    pure = adapters.to_schedule(rotation, after, horizon)
    for boundary in schedule.handoffs_between(pure, after + _ONE_MICROSECOND, horizon):
        return boundary.at
    return None


def schedule_next_handoff(*, rotation: Rotation, after: datetime) -> None:
    """Point the rotation's handoff task chain at its next boundary and enqueue the task.

    Writing `handoff_task_at` retires any older chain: its task finds a different value and stops
    (see `handoff_boundary_task`).
    """
    at = next_boundary(rotation, after)
    Rotation.objects.filter(pk=rotation.pk).update(handoff_task_at=at)
    if at is not None:
        pk, when = rotation.pk, at.isoformat()
        transaction.on_commit(lambda: handoff_boundary_task.using(run_after=at).enqueue(pk, when))
        schedule_handoff_reminders(rotation_id=rotation.pk, at=at)


REMINDERS = (("day", timedelta(days=1)), ("hour", timedelta(hours=1)))


def schedule_handoff_reminders(*, rotation_id: int, at: datetime) -> None:
    """Remind the outgoing and incoming engineers a day and an hour before the boundary `at`."""
    now = timezone.now()
    for before, delta in REMINDERS:
        moment = at - delta
        if moment > now:
            transaction.on_commit(partial(_enqueue_reminder, rotation_id, at, before, moment))


def _enqueue_reminder(rotation_id: int, at: datetime, before: str, moment: datetime) -> None:
    handoff_reminder_task.using(run_after=moment).enqueue(rotation_id, at.isoformat(), before)


# --- tasks ------------------------------------------------------------------------------------


@task()
def route_waiting_tickets_task() -> int:
    """Assign tickets waiting for coverage to whoever is on call now."""
    from backline.oncall.routing import route_waiting_tickets

    return len(route_waiting_tickets(now=timezone.now()))


@task()
def handoff_transfer_task(handoff_id: int) -> int:
    """Move ownership for one handoff if nobody acknowledged it within the grace period."""
    from backline.oncall.handoff import GRACE_PERIOD, handoff_transfer

    handoff = Handoff.objects.filter(pk=handoff_id).first()
    if handoff is None:
        return 0
    moved = handoff_transfer(handoff=handoff, trigger=GRACE_PERIOD, now=timezone.now())
    return len(moved or [])


@task()
def handoff_boundary_task(rotation_id: int, at: str) -> int:
    """At a Tier 3 boundary: create the due handoff record, then schedule the next boundary.

    Steps:
    1. create due records (idempotent, unique per boundary);
    2. move the chain on with a conditional UPDATE from `at` to the next boundary; only the run
       that wins it enqueues the next task, so a task delivered twice never forks the chain, and
       a chain retired by a rotation edit (different `handoff_task_at`) stops here.
    """
    from backline.oncall.handoff import handoff_create_due

    rotation = Rotation.objects.filter(
        pk=rotation_id, is_active=True, role=OncallRole.TIER3
    ).first()
    if rotation is None:
        return 0
    boundary = datetime.fromisoformat(at)
    now = max(timezone.now(), boundary)
    created = handoff_create_due(now=now, rotation=rotation)
    following = next_boundary(rotation, boundary)
    with transaction.atomic():
        moved = Rotation.objects.filter(pk=rotation.pk, handoff_task_at=boundary).update(
            handoff_task_at=following
        )
        if moved == 1 and following is not None:
            when = following.isoformat()
            transaction.on_commit(
                lambda: handoff_boundary_task.using(run_after=following).enqueue(rotation.pk, when)
            )
            schedule_handoff_reminders(rotation_id=rotation.pk, at=following)
    return len(created)


@dataclass
class UpcomingHandoff:
    """A boundary that has no handoff record yet, in the shape notify's reminders need."""

    pk: str
    at: datetime
    outgoing: User
    incoming: User
    rotation: Rotation
    report_markdown: str = ""


def upcoming_handoff(rotation: Rotation, at: datetime) -> UpcomingHandoff | None:
    """Who hands over to whom at boundary `at`, computed now (so later overrides count)."""
    from backline.oncall.handoff import _people_at

    pure, overrides = adapters.schedule_and_overrides(rotation, at - _ONE_MICROSECOND, at)
    for boundary in schedule.handoffs_between(pure, at, at + _ONE_MICROSECOND):
        outgoing_id, incoming_id = _people_at(pure, overrides, boundary)
        if outgoing_id is None or incoming_id is None or outgoing_id == incoming_id:
            return None
        people = User.objects.in_bulk([outgoing_id, incoming_id])
        return UpcomingHandoff(
            pk=f"rotation-{rotation.pk}",
            at=boundary.at,
            outgoing=people[outgoing_id],
            incoming=people[incoming_id],
            rotation=rotation,
        )
    return None


@task()
def handoff_reminder_task(rotation_id: int, at: str, before: str) -> int:
    """Remind about the boundary `at`; stale (does nothing) when the rotation's chain moved on."""
    from backline.notify.services import notify_handoff_reminder

    boundary = datetime.fromisoformat(at)
    rotation = Rotation.objects.filter(
        pk=rotation_id, is_active=True, role=OncallRole.TIER3, handoff_task_at=boundary
    ).first()
    if rotation is None:
        return 0
    upcoming = upcoming_handoff(rotation, boundary)
    if upcoming is None:
        return 0
    with transaction.atomic():
        return len(notify_handoff_reminder(handoff=upcoming, before=before, now=timezone.now()))
