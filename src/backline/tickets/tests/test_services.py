"""Ticket services: escalation context, the status machine, acknowledgement, the timeline."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from backline.accounts.models import User
from backline.errors import Conflict, InvalidInput
from backline.tickets import services
from backline.tickets.choices import Status, Tier
from backline.tickets.models import Ticket, TimelineEntry, TimelineImmutableError

pytestmark = pytest.mark.django_db


def opened_by(tina: User, **fields: Any) -> Ticket:
    base = {"title": "Cannot see prescriptions", "description": "Patient called the help desk."}
    base.update(fields)
    return services.ticket_create(actor=tina, fields=base)


def test_tier1_ticket_gets_a_friendly_number_and_a_created_entry(tina: User) -> None:
    ticket = opened_by(tina)
    assert ticket.number == f"BL-{1000 + ticket.pk}"
    assert ticket.tier == Tier.TIER1 and ticket.status == Status.NEW
    assert ticket.sla_started_at is None
    assert [e.kind for e in ticket.timeline.all()] == ["created"]


def test_escalation_to_tier2_needs_troubleshooting_steps_and_saves_nothing_without(
    tina: User,
) -> None:
    ticket = opened_by(tina)
    with pytest.raises(InvalidInput) as err:
        services.ticket_escalate(ticket=ticket, actor=tina, to_tier=2)
    assert set(err.value.fields) == {"troubleshooting_steps"}
    ticket.refresh_from_db()
    assert ticket.tier == Tier.TIER1
    assert ticket.timeline.count() == 1


def test_escalation_to_tier3_lists_exactly_what_is_missing(tina: User, sam: User) -> None:
    ticket = opened_by(tina, troubleshooting_steps=["Reset password"])
    services.ticket_escalate(ticket=ticket, actor=tina, to_tier=2)
    with pytest.raises(InvalidInput) as err:
        services.ticket_escalate(
            ticket=ticket, actor=sam, to_tier=3, context={"description": "new text"}
        )
    assert set(err.value.fields) == {"affected_user_id", "occurred_at", "entry_criterion"}
    assert "affected_user_id" in err.value.message
    ticket.refresh_from_db()
    assert ticket.tier == Tier.TIER2
    assert ticket.description == "Patient called the help desk."  # nothing half-saved


def test_appointments_are_refused_at_tier3_with_the_reason(
    sam: User, tier3_context: dict[str, Any]
) -> None:
    tier3_context["area"] = "appointments"
    with pytest.raises(InvalidInput) as err:
        services.ticket_create(actor=sam, fields=tier3_context, tier=2)
        ticket = Ticket.objects.get()
        services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    assert "out of Tier 3 scope" in err.value.fields["area"][0]


def test_full_escalation_starts_the_clock(sam: User, tier3_context: dict[str, Any]) -> None:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    assert ticket.tier == Tier.TIER3 and ticket.escalated_by == sam
    assert ticket.sla_started_at is not None
    assert ticket.ack_due_at is not None and ticket.resolve_due_at is not None
    assert ticket.next_due_at == ticket.ack_due_at


def test_tier1_cannot_escalate_to_tier3(tina: User, tier3_context: dict[str, Any]) -> None:
    ticket = services.ticket_create(actor=tina, fields=tier3_context)
    with pytest.raises(PermissionDenied):
        services.ticket_escalate(ticket=ticket, actor=tina, to_tier=3)


def test_tier1_cannot_open_a_ticket_directly_at_tier3(
    tina: User, tier3_context: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput, match="Tier 1 at most"):
        services.ticket_create(actor=tina, fields=tier3_context, tier=3)
    assert not Ticket.objects.exists()


@pytest.fixture
def tier3_ticket(sam: User, tier3_context: dict[str, Any]) -> Ticket:
    ticket = services.ticket_create(actor=sam, fields=tier3_context, tier=2)
    return services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)


def test_acknowledge_takes_ownership(tier3_ticket: Ticket, erin: User) -> None:
    ticket = services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    assert ticket.status == Status.ACKNOWLEDGED
    assert ticket.assignee == erin and ticket.acknowledged_by == erin
    assert ticket.next_due_at == ticket.resolve_due_at


def test_second_acknowledgement_is_told_who_won(
    tier3_ticket: Ticket, erin: User, frank: User
) -> None:
    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    with pytest.raises(Conflict, match="already acknowledged by Erin"):
        services.ticket_acknowledge(ticket=tier3_ticket, actor=frank)
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.assignee == erin


def test_starting_the_investigation_acknowledges(tier3_ticket: Ticket, erin: User) -> None:
    ticket = services.ticket_change_status(ticket=tier3_ticket, actor=erin, to="investigating")
    assert ticket.acknowledged_by == erin and ticket.status == Status.INVESTIGATING


def test_illegal_transition_names_the_allowed_ones(tier3_ticket: Ticket, erin: User) -> None:
    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    ticket = services.ticket_resolve(
        ticket=tier3_ticket, actor=erin, summary="Fixed", root_cause="user_data"
    )
    services.ticket_change_status(ticket=ticket, actor=erin, to="closed")
    with pytest.raises(Conflict) as err:
        services.ticket_change_status(ticket=ticket, actor=erin, to="investigating")
    assert err.value.allowed == []
    assert "Closed" in err.value.message
    with pytest.raises(Conflict):
        services.ticket_reopen(ticket=ticket, actor=erin, reason="again")


def test_resolved_can_be_reopened(tier3_ticket: Ticket, erin: User) -> None:
    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    ticket = services.ticket_resolve(
        ticket=tier3_ticket, actor=erin, summary="Fixed", root_cause="user_data"
    )
    assert ticket.resolved_at is not None
    ticket = services.ticket_reopen(ticket=ticket, actor=erin, reason="Patient says it is back")
    assert ticket.status == Status.INVESTIGATING and ticket.resolved_at is None


def test_resolve_requires_summary_and_root_cause(tier3_ticket: Ticket, erin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        services.ticket_resolve(ticket=tier3_ticket, actor=erin, summary=" ", root_cause="")
    assert set(err.value.fields) == {"summary", "root_cause"}
    tier3_ticket.refresh_from_db()
    assert tier3_ticket.status == Status.NEW


def test_send_back_and_answer_round_trip(tier3_ticket: Ticket, erin: User, sam: User) -> None:
    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    started = Ticket.objects.get(pk=tier3_ticket.pk).sla_started_at
    ticket = services.ticket_send_back(ticket=tier3_ticket, actor=erin, question="Which browser?")
    assert ticket.tier == Tier.TIER2 and ticket.status == Status.WAITING_REQUESTER
    assert ticket.paused_at is not None
    with pytest.raises(PermissionDenied):
        services.ticket_answer(ticket=ticket, actor=erin, answer="x")
    ticket = services.ticket_answer(ticket=ticket, actor=sam, answer="Safari 18")
    assert ticket.tier == Tier.TIER3 and ticket.status == Status.INVESTIGATING
    assert ticket.paused_at is None
    assert ticket.sla_started_at == started
    assert ticket.pauses.get().ended_at is not None


def test_internal_comments_need_engineering(tier3_ticket: Ticket, sam: User, erin: User) -> None:
    with pytest.raises(PermissionDenied):
        services.ticket_comment(ticket=tier3_ticket, actor=sam, body="secret", internal=True)
    entry = services.ticket_comment(ticket=tier3_ticket, actor=erin, body="note", internal=True)
    assert entry.internal


def test_timeline_entries_are_immutable(tier3_ticket: Ticket) -> None:
    entry = TimelineEntry.objects.filter(ticket=tier3_ticket).first()
    assert entry is not None
    entry.body = "rewritten"
    with pytest.raises(TimelineImmutableError):
        entry.save()
    with pytest.raises(TimelineImmutableError):
        entry.delete()


def test_every_change_appends_who_what_old_new(tier3_ticket: Ticket, erin: User) -> None:
    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    services.ticket_set_priority(ticket=tier3_ticket, actor=erin, priority="high", reason="2 users")
    entry = tier3_ticket.timeline.filter(kind="priority").get()
    assert (entry.actor, entry.old_value, entry.new_value) == (erin, "Medium", "High")


def test_resolved_tickets_close_automatically(tier3_ticket: Ticket, erin: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    services.ticket_acknowledge(ticket=tier3_ticket, actor=erin)
    services.ticket_resolve(
        ticket=tier3_ticket, actor=erin, summary="Fixed", root_cause="user_data"
    )
    now = timezone.now()
    assert (
        services.tickets_close_resolved(now=now + timedelta(days=2), after=timedelta(days=3)) == 0
    )
    assert (
        services.tickets_close_resolved(now=now + timedelta(days=4), after=timedelta(days=3)) == 1
    )
    assert (
        services.tickets_close_resolved(now=now + timedelta(days=4), after=timedelta(days=3)) == 0
    )
    assert Ticket.objects.get(pk=tier3_ticket.pk).status == Status.CLOSED
