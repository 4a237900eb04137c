"""Auto-close: a Resolved ticket closes after the configured delay, unless reopened first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from backline.accounts.models import User
from backline.tickets import services
from backline.tickets.choices import Status
from backline.tickets.models import Ticket
from backline.tickets.tasks import close_if_still_resolved

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(
    sam: User, erin: User, tier3_context: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> Ticket:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    services.ticket_acknowledge(ticket=ticket, actor=erin)
    with django_capture_on_commit_callbacks(execute=True):
        return services.ticket_resolve(
            ticket=ticket, actor=erin, summary="Fixed", root_cause="user_data"
        )


def test_resolving_schedules_the_close_for_the_configured_delay(resolved: Ticket) -> None:
    task = DBTaskResult.objects.get(task_path__endswith="close_if_still_resolved")
    assert resolved.resolved_at is not None
    assert task.run_after == resolved.resolved_at + timedelta(days=3)


def test_the_task_closes_only_a_ticket_still_resolved(
    resolved: Ticket, erin: User, settings: Any
) -> None:
    settings.AUTO_CLOSE_RESOLVED_DAYS = 0
    stamp = resolved.resolved_at.isoformat()  # type: ignore[union-attr]
    services.ticket_reopen(ticket=resolved, actor=erin, reason="Patient says it is back")
    assert close_if_still_resolved.call(resolved.pk, stamp) is False
    again = services.ticket_resolve(
        ticket=resolved, actor=erin, summary="Fixed", root_cause="user_data"
    )
    assert close_if_still_resolved.call(resolved.pk, stamp) is False  # an older resolution
    assert close_if_still_resolved.call(resolved.pk, again.resolved_at.isoformat()) is True  # type: ignore[union-attr]
    assert Ticket.objects.get(pk=resolved.pk).status == Status.CLOSED
    assert close_if_still_resolved.call(resolved.pk, again.resolved_at.isoformat()) is False  # type: ignore[union-attr]
