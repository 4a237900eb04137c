"""Ticket events write outbox rows in their own transaction; SLA timers fire once, at the moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from backline.accounts.models import User
from backline.accounts.roles import Role
from backline.notify import services, timers
from backline.notify.models import (
    Channel,
    ChannelKind,
    Delivery,
    NotificationRule,
    SlaTimer,
    TimerKind,
)
from backline.notify.tests.conftest import drain, pagerduty_service, slack_channel
from backline.notify.tests.servers import FakeHttpServer
from backline.tickets import services as tickets
from backline.tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(http_server: Callable[..., FakeHttpServer], erin: User) -> dict[str, Any]:
    server = http_server()
    return {
        "server": server,
        "team": slack_channel(server, name="#mhv-tier-3-support", role=Role.TIER3),
        "erin_dm": slack_channel(server, name="erin DM", user=erin),
    }


def escalate(sam: User, context: dict[str, Any], capture: Any, **changes: Any) -> Ticket:
    with capture(execute=True):
        ticket = tickets.ticket_create(actor=sam, fields={**context, **changes}, tier=2)
        return tickets.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)


def test_escalation_to_tier3_notifies_on_call_dm_email_and_team_channel(
    team: dict[str, Any],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: dict[Role, services.OnCallNow],
    django_capture_on_commit_callbacks: Any,
) -> None:
    erin.email = "erin@example.org"
    erin.save()
    on_call[Role.TIER3] = services.OnCallNow(person=erin, in_coverage=True)
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    rows = Delivery.objects.filter(ticket=ticket, event="escalated_tier3")
    assert {(r.channel, r.recipient_id, r.channel_config_id) for r in rows} == {
        (ChannelKind.SLACK, erin.pk, team["erin_dm"].pk),
        (ChannelKind.EMAIL, erin.pk, None),
        (ChannelKind.SLACK, None, team["team"].pk),
    }
    assert rows.count() == 3
    assert not rows.filter(channel=ChannelKind.PAGERDUTY).exists()  # medium, in coverage
    slack = rows.filter(channel=ChannelKind.SLACK).first()
    assert (
        slack is not None
        and ticket.number in str(slack.payload)
        and "https://backline.example.org" in str(slack.payload)
    )


def test_outbox_rows_roll_back_with_the_event(
    team: dict[str, Any], sam: User, tier3_context: dict[str, Any], on_call: Any
) -> None:
    ticket = tickets.ticket_create(actor=sam, fields=tier3_context, tier=2)
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
        assert Delivery.objects.filter(ticket=ticket).exists()  # written in the same transaction
        raise RuntimeError("the escalation fails after the hook ran")
    assert not Delivery.objects.exists() and not SlaTimer.objects.exists()


def test_critical_outside_coverage_pages_monitoring_then_ack_and_resolve_follow(
    team: dict[str, Any],
    pagerduty_server: Callable[..., FakeHttpServer],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: dict[Role, services.OnCallNow],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pd = pagerduty_server()
    pagerduty_service()
    on_call[Role.TIER3] = services.OnCallNow(person=None, in_coverage=False)
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks, priority="critical")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_acknowledge(ticket=ticket, actor=erin)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_resolve(
            ticket=ticket, actor=erin, summary="Fixed the MHV id mapping", root_cause="identity"
        )
    drain()
    events = [(r.body["event_action"], r.body["dedup_key"]) for r in pd.received]
    key = f"backline-ticket-{ticket.number}"
    assert events == [("trigger", key), ("acknowledge", key), ("resolve", key)]
    trigger = pd.received[0].body
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["custom_details"]["ticket_link"].endswith(
        f"/tickets/{ticket.number}/"
    )


def test_medium_ticket_outside_coverage_is_not_paged(
    team: dict[str, Any],
    sam: User,
    tier3_context: dict[str, Any],
    on_call: dict[Role, services.OnCallNow],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pagerduty_service()
    on_call[Role.TIER3] = services.OnCallNow(person=None, in_coverage=False)
    escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    assert not Delivery.objects.filter(channel=ChannelKind.PAGERDUTY).exists()


def test_quiet_hours_hold_messages_back_except_for_critical(
    team: dict[str, Any],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: dict[Role, services.OnCallNow],
    django_capture_on_commit_callbacks: Any,
) -> None:

    erin.time_zone = "UTC"
    erin.save()
    # A window from an hour ago to two hours ahead (it may span midnight): quiet now, whatever
    # the time of day the test runs.
    from django.utils import timezone as django_timezone

    now = django_timezone.now()
    NotificationRule.objects.create(
        user=erin,
        event="escalated_tier3",
        channels=["slack"],
        quiet_start=(now - timedelta(hours=1)).time().replace(microsecond=0),
        quiet_end=(now + timedelta(hours=2)).time().replace(microsecond=0),
    )
    on_call[Role.TIER3] = services.OnCallNow(person=erin, in_coverage=True)
    quiet = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    urgent = escalate(sam, tier3_context, django_capture_on_commit_callbacks, priority="critical")
    held = Delivery.objects.get(ticket=quiet, recipient=erin)
    now_ish = held.created_at
    assert held.next_attempt_at > now_ish + timedelta(minutes=1)
    assert not Delivery.objects.filter(
        ticket=quiet, channel=ChannelKind.EMAIL
    ).exists()  # rule: slack only
    sent_now = Delivery.objects.get(ticket=urgent, recipient=erin)
    assert sent_now.next_attempt_at <= sent_now.created_at + timedelta(seconds=1)


def test_timers_are_scheduled_for_the_sla_moments(
    sam: User, tier3_context: dict[str, Any], on_call: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    rows = {t.kind: t.due_at for t in SlaTimer.objects.filter(ticket=ticket)}
    assert rows == {
        TimerKind.ACK_RISK: ticket.ack_risk_at,
        TimerKind.ACK_DUE: ticket.ack_due_at,
        TimerKind.RESOLVE_RISK: ticket.resolve_risk_at,
        TimerKind.RESOLVE_DUE: ticket.resolve_due_at,
    }
    queued = DBTaskResult.objects.filter(task_path="backline.notify.tasks.sla_timer")
    assert sorted(t.run_after for t in queued) == sorted(rows.values())


def test_stale_timer_does_nothing_and_current_timer_fires_once(
    team: dict[str, Any],
    sam: User,
    erin: User,
    frank: User,
    tier3_context: dict[str, Any],
    on_call: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    first_risk = ticket.ack_risk_at
    assert first_risk is not None
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_set_priority(
            ticket=ticket, actor=erin, priority="critical", reason="patient safety"
        )
    assert ticket.ack_risk_at != first_risk
    # The timer scheduled before the change carries the old moment: stale.
    assert not timers.timer_fire(
        ticket_id=ticket.pk, kind=TimerKind.ACK_RISK, scheduled_for=first_risk
    )
    assert ticket.ack_risk_at is not None
    assert timers.timer_fire(
        ticket_id=ticket.pk, kind=TimerKind.ACK_RISK, scheduled_for=ticket.ack_risk_at
    )
    assert not timers.timer_fire(
        ticket_id=ticket.pk, kind=TimerKind.ACK_RISK, scheduled_for=ticket.ack_risk_at
    )
    rows = Delivery.objects.filter(ticket=ticket, event="sla_ack_at_risk")
    assert [r.channel_config_id for r in rows] == [team["team"].pk]  # unassigned, nobody on call


def test_pause_cancels_and_resume_reschedules(
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_acknowledge(ticket=ticket, actor=erin)
    resolve_risk = ticket.resolve_risk_at
    assert resolve_risk is not None
    assert SlaTimer.objects.get(ticket=ticket, kind=TimerKind.ACK_RISK).due_at is None  # target met
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_change_status(
            ticket=ticket, actor=erin, to="waiting_partner", note="VistA team"
        )
    assert set(SlaTimer.objects.filter(ticket=ticket).values_list("due_at", flat=True)) == {None}
    assert not timers.timer_fire(
        ticket_id=ticket.pk, kind=TimerKind.RESOLVE_RISK, scheduled_for=resolve_risk
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_change_status(ticket=ticket, actor=erin, to="investigating")
    assert (
        SlaTimer.objects.get(ticket=ticket, kind=TimerKind.RESOLVE_RISK).due_at
        == ticket.resolve_risk_at
    )
    assert ticket.resolve_risk_at is not None and ticket.resolve_risk_at >= resolve_risk


def test_resolving_cancels_every_timer(
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    due = ticket.resolve_due_at
    assert due is not None
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_resolve(ticket=ticket, actor=erin, summary="Done", root_cause="user_error")
    assert set(SlaTimer.objects.filter(ticket=ticket).values_list("due_at", flat=True)) == {None}
    assert not timers.timer_fire(ticket_id=ticket.pk, kind=TimerKind.RESOLVE_DUE, scheduled_for=due)
    assert not Delivery.objects.filter(event__startswith="sla_").exists()


def test_sla_notice_goes_to_the_assignee(
    team: dict[str, Any],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    on_call: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.ticket_acknowledge(ticket=ticket, actor=erin)
    assert ticket.resolve_due_at is not None
    assert timers.timer_fire(
        ticket_id=ticket.pk, kind=TimerKind.RESOLVE_DUE, scheduled_for=ticket.resolve_due_at
    )
    rows = Delivery.objects.filter(ticket=ticket, event="sla_resolve_breached")
    assert {r.recipient_id for r in rows} == {erin.pk, None}
    assert "resolution SLA breached" in str(rows[0].payload)


def test_investigator_escalation_messages_without_a_page(
    team: dict[str, Any],
    sam: User,
    ivan: User,
    tier3_context: dict[str, Any],
    on_call: dict[Role, services.OnCallNow],
    django_capture_on_commit_callbacks: Any,
) -> None:
    pagerduty_service(name="Investigators", role=Role.INVESTIGATOR)
    Channel.objects.create(
        kind=ChannelKind.EMAIL,
        name="investigators",
        role=Role.INVESTIGATOR,
        addresses="inv@example.org",
    )
    ivan.email = "ivan@example.org"
    ivan.save()
    on_call[Role.INVESTIGATOR] = services.OnCallNow(person=ivan, in_coverage=True)
    ticket = escalate(sam, tier3_context, django_capture_on_commit_callbacks)
    rows = services.notify_escalated_to_investigator(
        ticket=ticket, actor=sam, request_type="data/anomaly", question="Why two MHV ids?"
    )
    assert sorted(r.channel for r in rows) == ["email", "email"]  # ivan has no Slack webhook
    assert not Delivery.objects.filter(channel=ChannelKind.PAGERDUTY).exists()
