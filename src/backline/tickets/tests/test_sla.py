"""SLA clock semantics on real ticket rows: start, pause/resume, reprioritise, state, the published facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backline.accounts.models import User
from backline.calendars.models import Calendar
from backline.tickets import sla
from backline.tickets.choices import SlaState, Status
from backline.tickets.models import SlaPolicy, Ticket, TicketPause

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def berlin_weekdays() -> Calendar:
    return Calendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={str(d): [["09:00", "17:00"]] for d in range(5)},
        us_federal_holidays=False,
    )


@pytest.fixture
def berlin_every_day() -> Calendar:
    return Calendar.objects.create(
        name="Berlin every day",
        time_zone="Europe/Berlin",
        weekly_hours={str(d): [["09:00", "18:00"]] for d in range(7)},
        us_federal_holidays=False,
    )


def ticket_on(
    calendar: Calendar, creator: User, *, start: datetime, ack: int, resolve: int
) -> Ticket:
    ticket = Ticket.objects.create(
        number=f"T-{Ticket.objects.count() + 1}",
        title="t",
        description="d",
        created_by=creator,
        tier=3,
        sla_started_at=start,
        sla_calendar=calendar,
        ack_target_minutes=ack,
        resolve_target_minutes=resolve,
    )
    sla.sla_recompute(ticket, now=start)
    ticket.save()
    return ticket


def test_published_fact_berlin_weekdays(berlin_weekdays: Calendar, sam: User) -> None:
    # Thursday 2013-03-21 09:30 UTC, 60 min to respond and 240 to resolve.
    ticket = ticket_on(berlin_weekdays, sam, start=utc(2013, 3, 21, 9, 30), ack=60, resolve=240)
    assert ticket.ack_due_at == utc(2013, 3, 21, 10, 30)
    assert ticket.resolve_due_at == utc(2013, 3, 21, 13, 30)


def test_published_fact_pause_waiting_on_requester(berlin_every_day: Calendar, sam: User) -> None:
    ticket = ticket_on(berlin_every_day, sam, start=utc(2013, 6, 4, 9, 0), ack=120, resolve=600)
    TicketPause.objects.create(
        ticket=ticket,
        started_at=utc(2013, 6, 4, 10),
        ended_at=utc(2013, 6, 4, 15),
        reason="waiting_requester",
    )
    sla.sla_recompute(ticket, now=utc(2013, 6, 4, 15))
    assert ticket.ack_due_at == utc(2013, 6, 4, 16, 0)


def test_state_moves_from_on_track_to_at_risk_to_breached(
    berlin_weekdays: Calendar, sam: User
) -> None:
    ticket = ticket_on(berlin_weekdays, sam, start=utc(2013, 3, 21, 9, 30), ack=60, resolve=240)
    assert ticket.ack_risk_at == utc(2013, 3, 21, 10, 15)
    assert ticket.sla_state(utc(2013, 3, 21, 10, 14)) == SlaState.ON_TRACK
    assert ticket.sla_state(utc(2013, 3, 21, 10, 15)) == SlaState.AT_RISK
    assert ticket.sla_state(utc(2013, 3, 21, 10, 30)) == SlaState.BREACHED


def test_remaining_is_business_time(berlin_weekdays: Calendar, sam: User) -> None:
    # Started Thursday 16:30 Berlin (15:30 UTC): 30 minutes that evening, 30 on Friday morning,
    # so due Friday 09:30 Berlin (08:30 UTC).
    ticket = ticket_on(berlin_weekdays, sam, start=utc(2013, 3, 21, 15, 30), ack=60, resolve=240)
    assert ticket.ack_due_at == utc(2013, 3, 22, 8, 30)
    # Thursday 18:00 UTC is after closing: the 30 minutes left are Friday's.
    assert sla.sla_remaining(ticket, now=utc(2013, 3, 21, 18, 0)) == timedelta(minutes=30)
    assert sla.sla_remaining(ticket, now=utc(2013, 3, 22, 9, 30)) == -timedelta(minutes=60)


def test_paused_ticket_reports_paused(berlin_weekdays: Calendar, sam: User) -> None:
    ticket = ticket_on(berlin_weekdays, sam, start=utc(2013, 3, 21, 9, 30), ack=60, resolve=240)
    ticket.status = Status.WAITING_PARTNER
    ticket.paused_at = utc(2013, 3, 21, 9, 45)
    assert ticket.sla_state(utc(2013, 3, 21, 12)) == SlaState.PAUSED


def test_priority_change_reevaluates_from_the_original_start(
    sam: User, erin: User, tier3_context: dict[str, object]
) -> None:
    from backline.tickets import services

    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    start = ticket.sla_started_at
    assert start is not None
    ticket = services.ticket_set_priority(ticket=ticket, actor=erin, priority="critical")
    critical = SlaPolicy.objects.get(priority="critical")
    assert ticket.sla_started_at == start
    assert ticket.ack_target_minutes == critical.acknowledge_minutes
    # Critical runs on the 24x7 calendar: due exactly one hour after the original start.
    assert ticket.ack_due_at == start + timedelta(minutes=critical.acknowledge_minutes)
    entry = ticket.timeline.get(kind="priority")
    assert entry.data["new_due"] == ticket.next_due_at.isoformat()  # type: ignore[union-attr]


def test_default_policies_follow_the_published_table() -> None:
    table = {
        p.priority: (p.acknowledge_minutes, p.resolve_minutes, p.calendar.is_24x7)
        for p in SlaPolicy.objects.select_related("calendar")
    }
    assert table == {
        "critical": (60, 24 * 60, True),
        "high": (4 * 60, 2 * 8 * 60, False),
        "medium": (8 * 60, 5 * 8 * 60, False),
        "low": (8 * 60, 10 * 8 * 60, False),
    }
