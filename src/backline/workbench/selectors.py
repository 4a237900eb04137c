"""Reads for the workbench: a ticket's pinned evidence and the audit log search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.audit.models import AuditEvent
from backline.audit.services import subject_digest
from backline.tickets.models import Ticket
from backline.workbench.models import PinnedEvidence


def evidence_for_ticket(ticket: Ticket) -> QuerySet[PinnedEvidence]:
    """The ticket's pinned evidence still in force, oldest first (escalations carry these)."""
    return PinnedEvidence.objects.filter(ticket=ticket, removed_at__isnull=True).select_related(
        "pinned_by"
    )


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # username
    subject: str = ""  # a patient identifier as typed; searched by its digest
    action: str = ""
    ticket: str = ""
    start: datetime | None = None
    end: datetime | None = None


def audit_events(*, user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit rows matching ``filters``, newest first. Admins only (``audit.view``)."""
    from backline.workbench.services import identifier_key

    require(user, Action.AUDIT_VIEW)
    rows = AuditEvent.objects.select_related("actor")
    if filters.actor:
        rows = rows.filter(actor__username=filters.actor)
    if filters.subject.strip():
        rows = rows.filter(subject_digest=subject_digest(identifier_key(filters.subject)[1]))
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.ticket:
        rows = rows.filter(ticket_number__iexact=filters.ticket.strip())
    if filters.start is not None:
        rows = rows.filter(at__gte=filters.start)
    if filters.end is not None:
        rows = rows.filter(at__lt=filters.end)
    return rows.order_by("-at", "-id")


def audit_actions() -> list[str]:
    """Every action name present in the audit log, for the filter's choices."""
    return sorted(AuditEvent.objects.values_list("action", flat=True).distinct().order_by())
