"""Two engineers acknowledge the same ticket at the same moment: exactly one wins.

Runs real concurrent transactions, so it needs PostgreSQL (SQLite serialises writers and would prove
nothing); CI runs the suite on both.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from backline.accounts.models import User
from backline.errors import Conflict
from backline.tickets import services
from backline.tickets.models import Ticket

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_exactly_one_acknowledgement_wins(
    attempt: int, sam: User, erin: User, frank: User, tier3_context: dict[str, Any]
) -> None:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def acknowledge(engineer: User) -> None:
        try:
            barrier.wait(timeout=10)
            services.ticket_acknowledge(ticket=Ticket.objects.get(pk=ticket.pk), actor=engineer)
            outcomes[engineer.username] = "won"
        except Conflict as exc:
            outcomes[engineer.username] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=acknowledge, args=(e,)) for e in (erin, frank)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    loser = "frank" if winners == ["erin"] else "erin"
    assert f"already acknowledged by {winners[0].title()}" in outcomes[loser]
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.assignee is not None and fresh.assignee.username == winners[0]
    assert fresh.timeline.filter(kind="acknowledged").count() == 1
