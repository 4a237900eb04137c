"""Background tasks of tickets. Each takes ids, is enqueued on commit, and is safe to run twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from backline.tickets import services
from backline.tickets.choices import Status
from backline.tickets.models import Ticket


def auto_close_delay() -> timedelta:
    return timedelta(days=settings.AUTO_CLOSE_RESOLVED_DAYS)


def schedule_auto_close(*, ticket: Ticket) -> None:
    """Close the ticket when it has stayed Resolved for the configured delay (default 3 days)."""
    if ticket.resolved_at is None:
        return
    resolved_at = ticket.resolved_at
    pk = ticket.pk
    transaction.on_commit(
        lambda: close_if_still_resolved.using(run_after=resolved_at + auto_close_delay()).enqueue(
            pk, resolved_at.isoformat()
        )
    )


@task()
def close_if_still_resolved(ticket_id: int, resolved_at: str) -> bool:
    """Close one ticket, unless it was reopened (or resolved again later) in the meantime."""
    moment = datetime.fromisoformat(resolved_at)
    if not Ticket.objects.filter(pk=ticket_id, status=Status.RESOLVED, resolved_at=moment).exists():
        return False
    return services.tickets_close_resolved(now=timezone.now(), after=auto_close_delay()) > 0
