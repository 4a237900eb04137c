"""Routing tickets to whoever is on call: coverage, after-hours critical, waiting for Monday."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from backline.accounts.models import User
from backline.oncall import routing, selectors
from backline.oncall.models import OncallRole
from backline.oncall.tests.conftest import Clock, World, ny
from backline.tickets import services as tickets
from backline.tickets.models import Ticket, TimelineKind

pytestmark = pytest.mark.django_db


def _routing_entries(ticket: Ticket) -> list[Any]:
    return list(ticket.timeline.filter(kind=TimelineKind.ROUTING).order_by("at", "id"))


def test_inside_coverage_goes_to_the_tier3_engineer(
    world: World, clock: Clock, escalate: Callable[..., Ticket], erin: User
) -> None:
    clock.set(ny(2026, 12, 8, 10))  # Tuesday, erin's week
    ticket = escalate(priority="medium")
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee == erin
    assert ticket.assignee == erin  # the escalation's returned instance says so too
    [entry] = _routing_entries(fresh)
    assert entry.body == "inside Tier 3 coverage -> Tier 3 on-call Erin"
    assert entry.data["decision"] == "assign" and entry.data["after_hours"] is False
    assigned = fresh.timeline.get(kind=TimelineKind.ASSIGNED)
    assert assigned.new_value == "Erin" and assigned.actor is None
    assert not selectors.ticket_routed_after_hours(fresh)


def test_critical_on_saturday_night_goes_to_monitoring_and_is_marked(
    world: World, clock: Clock, escalate: Callable[..., Ticket], mona: User
) -> None:
    clock.set(ny(2026, 12, 5, 3))  # Saturday 03:00
    ticket = escalate(priority="critical", entry_criterion="security")
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee == mona
    [entry] = _routing_entries(fresh)
    assert entry.body == "outside Tier 3 coverage, critical -> monitoring on-call Mona"
    assert entry.data["after_hours"] is True and entry.data["role"] == "monitoring"
    assert selectors.ticket_routed_after_hours(fresh)


def test_medium_on_saturday_waits_and_goes_to_that_weeks_engineer_on_monday(
    world: World,
    clock: Clock,
    escalate: Callable[..., Ticket],
    erin: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    clock.set(ny(2026, 12, 5, 3))
    with django_capture_on_commit_callbacks(execute=True):
        ticket = escalate(priority="medium")
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee is None
    [entry] = _routing_entries(fresh)
    assert entry.data["decision"] == "wait"
    assert entry.body.startswith("outside Tier 3 coverage, medium -> waits unassigned")
    assert "Mon 2026-12-07 09:00 EST (on call then: Erin)" in entry.body
    # The waiting pass is queued for the moment coverage opens.
    queued = DBTaskResult.objects.get(task_path__endswith="route_waiting_tickets_task")
    assert queued.run_after == ny(2026, 12, 7, 9)

    # Sunday night: still closed, nothing happens.
    assert routing.route_waiting_tickets(now=ny(2026, 12, 7, 8, 59)) == []
    assert Ticket.objects.get(pk=ticket.pk).assignee is None

    decisions = routing.route_waiting_tickets(now=ny(2026, 12, 7, 9))
    assert [(d.ticket_number, d.assignee) for d in decisions] == [(ticket.number, erin)]
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee == erin
    last = _routing_entries(fresh)[-1]
    assert last.body == "Tier 3 coverage opened -> Tier 3 on-call Erin"
    assert "waited_since" in last.data
    # Safe to run twice: nothing more is written.
    count = fresh.timeline.count()
    assert routing.route_waiting_tickets(now=ny(2026, 12, 7, 9, 5)) == []
    assert fresh.timeline.count() == count


def test_a_waiting_ticket_picked_up_by_hand_stops_waiting(
    world: World, clock: Clock, escalate: Callable[..., Ticket], frank: User
) -> None:
    clock.set(ny(2026, 12, 5, 3))
    ticket = escalate(priority="low")
    tickets.ticket_acknowledge(ticket=ticket, actor=frank)
    [decision] = routing.route_waiting_tickets(now=ny(2026, 12, 7, 9))
    assert decision.decision == routing.CLOSE_WAIT
    assert Ticket.objects.get(pk=ticket.pk).assignee == frank
    assert routing.waiting_ticket_ids() == []


def test_waiting_on_a_holiday_opens_the_next_business_day(
    clock: Clock, maggie: User, erin: User, frank: User, escalate: Callable[..., Ticket]
) -> None:
    from backline.oncall.tests.conftest import business_calendar, make_rotation

    make_rotation(
        maggie,
        "T3",
        OncallRole.TIER3,
        [erin, frank],
        coverage=business_calendar(),
    )
    clock.set(ny(2026, 12, 24, 18))  # Thursday evening; Friday Dec 25 is a federal holiday
    ticket = escalate(priority="high")
    [entry] = _routing_entries(Ticket.objects.get(pk=ticket.pk))
    assert datetime.fromisoformat(entry.data["wait_until"]) == ny(2026, 12, 28, 9)
    assert "(on call then: Frank)" in entry.body  # the Dec 24 handoff made it frank's week


def test_no_rotation_at_all_waits_without_a_date(
    clock: Clock, escalate: Callable[..., Ticket]
) -> None:
    ticket = escalate(priority="critical", entry_criterion="security")
    [entry] = _routing_entries(Ticket.objects.get(pk=ticket.pk))
    assert entry.data["decision"] == "wait"
    assert entry.body.startswith("no active Tier 3 rotation and no active monitoring rotation")


def test_escalation_to_the_investigator_waits_for_business_hours(
    world: World, clock: Clock, escalate: Callable[..., Ticket], erin: User, ivan: User
) -> None:
    clock.set(ny(2026, 12, 8, 10))
    ticket = escalate(priority="medium")
    decision = routing.ticket_route_to_role(
        ticket=ticket, actor=erin, role=OncallRole.INVESTIGATOR, now=ny(2026, 12, 8, 18)
    )
    assert decision.decision == "wait"
    assert Ticket.objects.get(pk=ticket.pk).assignee == erin  # stays with Tier 3 meanwhile
    [routed] = routing.route_waiting_tickets(now=ny(2026, 12, 9, 9))
    assert routed.assignee == ivan and routed.role == OncallRole.INVESTIGATOR
    assert Ticket.objects.get(pk=ticket.pk).assignee == ivan


def test_on_call_for_answers_outside_coverage_with_the_next_opening(
    world: World, erin: User, frank: User
) -> None:
    answer = selectors.on_call_for(role=OncallRole.TIER3, at=ny(2026, 12, 12, 12))
    assert answer.person == frank and not answer.in_coverage
    assert answer.next_coverage_start == ny(2026, 12, 14, 9)
    assert answer.next_person == frank
    assert answer.shift_start == ny(2026, 12, 10, 9) and answer.shift_end == ny(2026, 12, 17, 9)
    before = selectors.on_call_for(role=OncallRole.TIER3, at=ny(2026, 12, 3, 8))
    assert before.person is None
