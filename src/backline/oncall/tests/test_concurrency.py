"""Acknowledgement and the grace-period task race for the same handoff: ownership moves once.

Runs real concurrent transactions, so it needs PostgreSQL (SQLite serialises writers and would prove
nothing); CI runs the suite on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections

from backline.accounts.models import User
from backline.oncall import handoff as handoffs
from backline.oncall.models import Handoff
from backline.oncall.tests.conftest import Clock, World, ny
from backline.tickets.models import Ticket, TimelineKind

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)

BOUNDARY = ny(2026, 12, 10, 9)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_acknowledgement_and_grace_period_move_each_ticket_exactly_once(
    attempt: int,
    world: World,
    clock: Clock,
    escalate: Callable[..., Ticket],
    erin: User,
    frank: User,
) -> None:
    clock.set(ny(2026, 12, 8, 10))
    numbers = [escalate(title=f"RX - case {i}").number for i in range(3)]
    assert set(Ticket.objects.values_list("assignee__username", flat=True)) == {"erin"}
    clock.set(BOUNDARY + timedelta(hours=3))  # past the grace period: both paths may move them
    [handoff] = handoffs.handoff_create_due(now=BOUNDARY + timedelta(minutes=1))
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def acknowledge() -> None:
        try:
            barrier.wait(timeout=10)
            handoffs.handoff_acknowledge(actor=frank, handoff=Handoff.objects.get(pk=handoff.pk))
            outcomes["ack"] = "ok"
        except Exception as exc:  # recorded and asserted on below
            outcomes["ack"] = repr(exc)
        finally:
            connections.close_all()

    def grace() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes["grace"] = handoffs.handoff_transfer(
                handoff=Handoff.objects.get(pk=handoff.pk), trigger=handoffs.GRACE_PERIOD
            )
        except Exception as exc:
            outcomes["grace"] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=acknowledge), threading.Thread(target=grace)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes["ack"] == "ok", outcomes  # acknowledging always succeeds
    fresh = Handoff.objects.get(pk=handoff.pk)
    assert fresh.acknowledged_at is not None and fresh.transferred_at is not None
    assert sorted(fresh.transferred_tickets) == sorted(numbers)
    # Exactly one of the two did the move.
    assert (outcomes["grace"] is None) == (fresh.transfer_trigger == "acknowledged"), outcomes
    for number in numbers:
        ticket = Ticket.objects.get(number=number)
        assert ticket.assignee == frank
        moves = ticket.timeline.filter(kind=TimelineKind.ASSIGNED, body__startswith="Handoff:")
        assert moves.count() == 1, (number, outcomes)
