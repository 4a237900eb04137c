"""The Thursday handoff: records at boundaries, the report, notes, acknowledgement, and the
ownership move that happens exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from backline.accounts.models import User
from backline.errors import Conflict
from backline.oncall import handoff as handoffs
from backline.oncall.models import Handoff, HandoffStatus
from backline.oncall.tests.conftest import Clock, World, ny
from backline.tickets import services as tickets
from backline.tickets.models import Ticket, TimelineKind

pytestmark = pytest.mark.django_db

BOUNDARY = ny(2026, 12, 10, 9)  # erin -> frank


@pytest.fixture
def erins_week(
    world: World,
    clock: Clock,
    escalate: Callable[..., Ticket],
    erin: User,
    frank: User,
) -> dict[str, Ticket]:
    """Tickets from erin's week (Dec 3-10); routing assigns them to erin during coverage."""
    clock.set(ny(2026, 12, 7, 10))
    investigating = escalate(title="RX - refill fails", priority="high")
    tickets.ticket_change_status(ticket=investigating, actor=erin, to="investigating")
    tickets.ticket_comment(
        ticket=investigating, actor=erin, internal=True, body="VistA returns 502 for station 984."
    )
    clock.set(ny(2026, 12, 7, 11))
    partner = escalate(
        title="Identity mismatch", area="account", suspected_upstream="mpi", priority="medium"
    )
    tickets.ticket_change_status(
        ticket=partner, actor=erin, to="waiting_partner", note="MPI / identity team"
    )
    clock.set(ny(2026, 12, 8, 10))
    resolved = escalate(title="RX - stale cache", priority="low")
    tickets.ticket_resolve(
        ticket=resolved, actor=erin, summary="Cache cleared.", root_cause="user_data"
    )
    franks = escalate(title="Frank's own", priority="low")
    tickets.ticket_assign(ticket=franks, actor=None, assignee=frank, reason="test setup")
    return {
        "investigating": investigating,
        "partner": partner,
        "resolved": resolved,
        "franks": franks,
    }


def _handoff_moves(ticket: Ticket) -> int:
    return ticket.timeline.filter(
        kind=TimelineKind.ASSIGNED, body__startswith="Handoff: Erin -> Frank"
    ).count()


def test_a_record_is_created_once_per_boundary_with_the_report(
    erins_week: dict[str, Ticket], clock: Clock, erin: User, frank: User
) -> None:
    assert handoffs.handoff_create_due(now=BOUNDARY - timedelta(seconds=1)) == []
    clock.set(BOUNDARY + timedelta(minutes=5))
    [handoff] = handoffs.handoff_create_due(now=BOUNDARY + timedelta(minutes=5))
    assert handoffs.handoff_create_due(now=BOUNDARY + timedelta(minutes=6)) == []  # idempotent
    assert (handoff.outgoing, handoff.incoming, handoff.at) == (erin, frank, BOUNDARY)
    assert handoff.status == HandoffStatus.PENDING

    report = handoff.report
    numbers = {t["number"]: t for t in report["open_tickets"]}
    investigating, partner = erins_week["investigating"], erins_week["partner"]
    assert set(numbers) == {investigating.number, partner.number}  # not resolved, not frank's
    row = numbers[investigating.number]
    assert row["status"] == "investigating" and row["sla_state"] in {
        "on_track",
        "at_risk",
        "breached",
    }
    assert row["latest_note"]["body"] == "VistA returns 502 for station 984."
    assert numbers[partner.number]["sla_state"] == "paused"
    recurring = report["recurring"]
    assert recurring["escalated"] == 4 and recurring["resolved"] == 1
    assert {r["key"]: r["count"] for r in recurring["by_area"]} == {"medications": 3, "account": 1}
    assert {r["key"]: r["count"] for r in recurring["by_upstream"]} == {"vista": 3, "mpi": 1}
    assert recurring["by_root_cause"] == [
        {"key": "user_data", "label": "User-specific data problem", "count": 1}
    ]
    [coordination] = report["partner_coordination"]
    assert coordination["number"] == partner.number
    assert coordination["waiting_on"] == "MPI / identity team"
    assert datetime.fromisoformat(coordination["since"]) == ny(2026, 12, 7, 11)
    assert sorted(report["transfers"]) == sorted([investigating.number, partner.number])

    markdown = handoff.report_markdown
    assert "# Handoff T3: Erin -> Frank" in markdown
    assert "waiting on MPI / identity team" in markdown
    assert "Medications 3" in markdown


def test_notes_by_the_outgoing_and_acknowledgement_by_the_incoming_move_tickets_once(
    erins_week: dict[str, Ticket], clock: Clock, erin: User, frank: User
) -> None:
    clock.set(BOUNDARY + timedelta(minutes=5))
    [handoff] = handoffs.handoff_create_due()
    with pytest.raises(Conflict):
        handoffs.handoff_add_notes(actor=frank, handoff=handoff, notes="not mine")
    handoffs.handoff_add_notes(actor=erin, handoff=handoff, notes="Watch station 984.")
    assert "Watch station 984." in Handoff.objects.get(pk=handoff.pk).report_markdown
    with pytest.raises(Conflict):
        handoffs.handoff_acknowledge(actor=erin, handoff=handoff)

    clock.set(BOUNDARY + timedelta(minutes=30))
    done = handoffs.handoff_acknowledge(actor=frank, handoff=handoff)
    assert done.status == HandoffStatus.ACKNOWLEDGED and done.transfer_trigger == "acknowledged"
    moved = {erins_week["investigating"].number, erins_week["partner"].number}
    assert set(done.transferred_tickets) == moved
    for key in ("investigating", "partner"):
        ticket = Ticket.objects.get(pk=erins_week[key].pk)
        assert ticket.assignee == frank
        assert _handoff_moves(ticket) == 1
    assert Ticket.objects.get(pk=erins_week["resolved"].pk).assignee == erin

    # The grace-period task arriving later changes nothing.
    assert handoffs.handoff_transfer(handoff=done, now=BOUNDARY + timedelta(hours=3)) is None
    assert sum(_handoff_moves(Ticket.objects.get(pk=t.pk)) for t in erins_week.values()) == 2
    with pytest.raises(Conflict, match="already acknowledged"):
        handoffs.handoff_acknowledge(actor=frank, handoff=done)


def test_without_acknowledgement_the_grace_period_moves_ownership(
    erins_week: dict[str, Ticket], clock: Clock, frank: User, maggie: User
) -> None:
    clock.set(BOUNDARY)
    [handoff] = handoffs.handoff_create_due()
    # A lead reassigns one listed ticket by hand meanwhile: the handoff leaves it alone.
    tickets.ticket_assign(
        ticket=erins_week["partner"], actor=maggie, assignee=frank, reason="manual"
    )
    assert handoffs.handoff_transfer(handoff=handoff, now=BOUNDARY + timedelta(minutes=119)) is None
    moved = handoffs.handoff_transfer(handoff=handoff, now=BOUNDARY + timedelta(minutes=120))
    assert moved == [erins_week["investigating"].number]
    fresh = Handoff.objects.get(pk=handoff.pk)
    assert fresh.status == HandoffStatus.TRANSFERRED and fresh.transfer_trigger == "grace_period"
    entry = (
        Ticket.objects.get(pk=erins_week["investigating"].pk)
        .timeline.filter(kind=TimelineKind.ASSIGNED)
        .last()
    )
    assert entry is not None and entry.actor is None
    assert entry.body == "Handoff: Erin -> Frank (not acknowledged within 120 minutes)"
    # A late acknowledgement is recorded but moves nothing again.
    late = handoffs.handoff_acknowledge(
        actor=frank, handoff=fresh, now=BOUNDARY + timedelta(hours=4)
    )
    assert late.status == HandoffStatus.ACKNOWLEDGED
    assert _handoff_moves(Ticket.objects.get(pk=erins_week["investigating"].pk)) == 1


def test_grace_period_is_configurable(
    erins_week: dict[str, Ticket], clock: Clock, settings: object
) -> None:
    settings.BACKLINE_HANDOFF_GRACE_MINUTES = 15  # type: ignore[attr-defined]
    clock.set(BOUNDARY)
    [handoff] = handoffs.handoff_create_due()
    assert handoffs.handoff_transfer(handoff=handoff, now=BOUNDARY + timedelta(minutes=14)) is None
    assert handoffs.handoff_transfer(handoff=handoff, now=BOUNDARY + timedelta(minutes=15))


def test_oncall_tick_creates_and_transfers(
    erins_week: dict[str, Ticket], clock: Clock, frank: User
) -> None:
    clock.set(BOUNDARY + timedelta(minutes=1))
    call_command("oncall_tick", now=(BOUNDARY + timedelta(minutes=1)).isoformat())
    assert Handoff.objects.count() == 1
    call_command("oncall_tick", now=(BOUNDARY + timedelta(hours=3)).isoformat())
    assert Ticket.objects.get(pk=erins_week["investigating"].pk).assignee == frank
    call_command("oncall_tick", now=(BOUNDARY + timedelta(hours=4)).isoformat())
    assert Handoff.objects.count() == 1
    assert _handoff_moves(Ticket.objects.get(pk=erins_week["investigating"].pk)) == 1


def test_no_handoff_when_the_same_person_stays_or_before_the_rotation_existed(
    world: World, clock: Clock, frank: User, maggie: User
) -> None:
    from backline.oncall import services

    # A manager puts frank on erin's whole next turn: frank hands over to frank, no record.
    clock.set(ny(2026, 12, 9, 12))
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        start=ny(2026, 12, 17, 9),
        end=ny(2026, 12, 24, 9),
    )
    clock.set(ny(2026, 12, 17, 9, 1))
    assert handoffs.handoff_create_due() == []
    # The first boundary (Dec 3, nobody outgoing) never gets a record either.
    assert handoffs.handoff_create_due(now=ny(2026, 12, 3, 9, 1)) == []


def test_the_boundary_task_creates_the_record_and_moves_its_chain_on(
    erins_week: dict[str, Ticket], world: World, clock: Clock
) -> None:
    from backline.oncall.models import Rotation
    from backline.oncall.tasks import handoff_boundary_task

    rotation = Rotation.objects.get(pk=world.tier3.pk)
    assert rotation.handoff_task_at == ny(2026, 12, 3, 9)  # scheduled when created (Dec 1)
    Rotation.objects.filter(pk=rotation.pk).update(handoff_task_at=BOUNDARY)
    clock.set(BOUNDARY + timedelta(seconds=2))
    assert handoff_boundary_task.call(rotation.pk, BOUNDARY.isoformat()) == 1
    assert Rotation.objects.get(pk=rotation.pk).handoff_task_at == ny(2026, 12, 17, 9)
    # Delivered twice: no second record, and the chain does not fork (stays on Dec 17).
    assert handoff_boundary_task.call(rotation.pk, BOUNDARY.isoformat()) == 0
    assert Rotation.objects.get(pk=rotation.pk).handoff_task_at == ny(2026, 12, 17, 9)
